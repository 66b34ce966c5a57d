"""make chaos's membership changes: a load balancer added (last or first in its
group), a backup replaced by a fresh host, a backup or the holder removed
(kubeha_lb_state: absent), each by one site.yml run while the probe runs.

Each case has a prepare step (before the probe starts), an injection (the
site.yml run, whose start is the fault's instant) and a restore that leaves
the lab as inventory/lab says. The added host is a fresh container from the
lab's image at the next address (bench/lab.py create_host), reached over SSH
like the others.
"""
import os
import shutil
import time

import lab as R

EXTRA = 'lb3'
# a host that runs no keepalived and no haproxy, and will not start them at boot
RETIRED = ['inactive', 'inactive', 'disabled', 'disabled']


def _extra():
    return EXTRA, R.next_address([R.EP['addresses'][lb] for lb in R.LBS])


def _lbs(extra=None, first=False, absent=()):
    """The lab's load balancers, with ``extra`` (name, address) last (or first),
    and those in ``absent`` marked kubeha_lb_state: absent."""
    out = [(lb, {'ansible_host': R.EP['addresses'][lb]}) for lb in R.LBS]
    if extra:
        entry = (extra[0], {'ansible_host': extra[1]})
        out = [entry] + out if first else out + [entry]
    return [(name, dict(hvars, kubeha_lb_state='absent') if name in absent else hvars) for name, hvars in out]


def _site(settings, load_balancers=None):
    """site.yml, against inventory/lab or a copy with these load balancers."""
    if load_balancers is None:
        return R.playbook('site.yml', *settings)
    path = R.inventory_with(load_balancers)
    try:
        return R.playbook('site.yml', *settings, inventory=path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def units_state(lb):
    """[is-active keepalived, is-active haproxy, is-enabled keepalived, is-enabled haproxy]."""
    return R.dexec(lb, 'systemctl is-active keepalived haproxy; systemctl is-enabled keepalived haproxy',
                   check=False).split()


def running_priorities(lbs):
    """{lb: the priority its keepalived.conf says} (None where there is none)."""
    out = {}
    for lb in lbs:
        words = R.dexec(lb, "awk '$1 == \"priority\" {print $2; exit}' /etc/keepalived/keepalived.conf",
                        check=False).split()
        out[lb] = int(words[0]) if words else None
    return out


def _reset(settings, extra=None):
    """The lab as inventory/lab says: the extra host retired and removed, the
    load balancers' keepalived facts dropped so the priorities follow the
    inventory's order again (as on a first converge), converged."""
    if extra:
        _site(settings, _lbs(extra, absent=(extra[0],)))
        R.remove_host(extra[0], extra[1])
    R.on_each(R.LBS, 'rm -f /etc/ansible/facts.d/kubeha_keepalived.fact')
    _site(settings)


# ------------------------------------------------------------ the cases
def prepare_extra(holder, notes, settings):
    """A fresh host for the add cases."""
    extra = _extra()
    R.remove_host(*extra)
    R.create_host(*extra)
    notes['extra'] = list(extra)


def prepare_extra_member(holder, notes, settings):
    """A third load balancer that already serves, for the remove cases."""
    prepare_extra(holder, notes, settings)
    _site(settings, _lbs(tuple(notes['extra'])))
    R.wait(lambda: R.vrrp_quiet(3.0), 60, 0.5)


def added(holder, notes, settings, first=False):
    extra = tuple(notes['extra'])
    notes['lbs'] = list(R.LBS) + [extra[0]]
    t = time.time()
    _site(settings, _lbs(extra, first=first))
    notes['joined'] = units_state(extra[0]) == ['active', 'active', 'enabled', 'enabled']
    notes['priorities'] = running_priorities(R.LBS + [extra[0]])
    notes['kept'] = all(notes['priorities'][lb] == R.EP['priorities'][lb] for lb in R.LBS)
    return t, lambda: _reset(settings, extra)


def backup_replaced(holder, notes, settings):
    backup = R.peer_of(holder)
    address = R.EP['addresses'][backup]
    R.remove_host(backup, address)
    R.create_host(backup, address)  # same name and address, nothing on it
    notes['lbs'] = list(R.LBS)
    t = time.time()
    _site(settings)
    notes['joined'] = units_state(backup) == ['active', 'active', 'enabled', 'enabled']
    notes['priorities'] = running_priorities(R.LBS)
    notes['kept'] = notes['priorities'][holder] == R.EP['priorities'][holder]
    return t, lambda: _reset(settings)


def removed(holder, notes, settings, which='backup'):
    extra = tuple(notes['extra'])
    gone = extra[0] if which == 'backup' else holder
    notes['lbs'] = list(R.LBS) + [extra[0]]
    notes['removed'] = gone
    t = time.time()
    _site(settings, _lbs(extra, absent=(gone,)))
    notes['retired'] = units_state(gone) == RETIRED
    notes['fact_left'] = R.dexec(gone, 'test -e /etc/ansible/facts.d/kubeha_keepalived.fact && echo yes',
                                 check=False).strip() == 'yes'
    stays = [lb for lb in notes['lbs'] if lb != gone]
    peers = R.on_each(stays, "grep -c '^ *%s$' /etc/keepalived/keepalived.conf || true"
                      % (extra[1] if gone == extra[0] else R.EP['addresses'][gone]))
    notes['still_a_peer_on'] = [lb for lb, out in peers.items() if out.strip() not in ('', '0')]
    notes['holders_after'] = [lb for lb in stays if R.dexec(lb, 'ip -o addr show to %s' % R.VIP, check=False).strip()]
    if which == 'backup':
        return t, lambda: R.remove_host(*extra)
    return t, lambda: _reset(settings, extra)


def _ok_join(s, m, n):
    return s['failed'] == 0 and not m and n.get('joined') and n.get('kept')


CASES = {
    'lb_added_last': dict(
        fault='a third load balancer (a fresh host) added at the end of the group; site.yml runs',
        prepare=prepare_extra, inject=added,
        promise='0 failed requests; the VIP does not move; the running load balancers keep their priorities; '
                'the new one runs keepalived and haproxy',
        judge=_ok_join),
    'lb_added_first': dict(
        fault='a third load balancer (a fresh host) added at the front of the group; site.yml runs',
        prepare=prepare_extra, inject=lambda h, n, s: added(h, n, s, first=True),
        promise='as when added last: the running load balancers keep their priorities, so the newcomer, '
                'first in the inventory, does not take the VIP',
        judge=_ok_join),
    'backup_replaced': dict(
        fault='the backup replaced by a fresh host (same name and address, nothing installed); site.yml runs',
        inject=backup_replaced,
        promise='0 failed requests; the VIP does not move; the holder keeps its priority',
        judge=_ok_join),
    'backup_removed': dict(
        fault='a backup of three marked kubeha_lb_state: absent; site.yml runs',
        prepare=prepare_extra_member, inject=removed,
        promise='0 failed requests; the VIP does not move; the removed host has keepalived and haproxy stopped '
                'and disabled and no keepalived fact; no load balancer lists it as a peer',
        judge=lambda s, m, n: (s['failed'] == 0 and not m and n.get('retired') and not n.get('fact_left')
                               and not n.get('still_a_peer_on'))),
    'holder_removed': dict(
        fault='the holder of three marked kubeha_lb_state: absent; site.yml runs',
        prepare=prepare_extra_member, inject=lambda h, n, s: removed(h, n, s, which='holder'),
        promise='the VIP moves once, to the next priority (keepalived stopped first: its priority-0 advert); '
                'no failed request farther than 2 s from the move; the removed host as for a backup',
        judge=lambda s, m, n: (len(m) == 1 and n.get('failed_away_from_moves') == 0 and n.get('retired')
                               and not n.get('fact_left') and not n.get('still_a_peer_on')
                               and len(n.get('holders_after') or []) == 1)),
}

if __name__ == '__main__':
    raise SystemExit('run it through bench/chaos.py --cases %s' % ','.join(CASES))

# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The BGP gate: announces the VIP through FRR while the local haproxy can
serve (kubeha-bgp-gate.service, role kubeha.control_plane.bgp).

The bgp role installs this very file as the gate's program, so the logic
tested here is the logic that runs. Python standard library only.

- The VIP is delivered locally, announced or not: a ``local`` route in the
  local table (no address on any interface: FRR would see it as a connected
  route that shadows the gate's), so a withdrawn load balancer still serves
  the packets the routers sent before they dropped its path.
- The announcement is a kernel route, ``blackhole VIP/32 proto static metric
  M``, which FRR redistributes through a route-map: metric NORMAL is announced
  as a plain path, STANDBY as a path prepended with the host's own AS number.
  Removing the route withdraws the VIP at once (no BGP timer is waited for).
- Every ``interval`` the gate runs the serving check (check-haproxy, the
  keepalived track script's: haproxy answers with an apiserver UP, or no peer
  can serve either). ``rise`` passes in a row announce; ``fall`` failures in
  a row withdraw, except a refused connection (curl's exit status 7: nothing
  listens, haproxy is down), which withdraws at once: the routers would send
  clients to a port that resets them. Between checks, every 50 ms, the gate
  looks whether haproxy's process (its pid file) is still there: a haproxy
  that died withdraws within that, not at the next check.
- active_passive: a load balancer announces NORMAL only while no other
  announces the VIP; otherwise STANDBY. It knows from FRR: a router hands
  every load balancer its best path to the VIP, and each tags its own
  announcement with a large community of its own (``community``), so a path
  with another tag is another load balancer's, and one with its own tag is
  its own coming back. (A router that strips communities leaves paths
  untagged: then a NORMAL load balancer stays NORMAL, and one that is not
  takes an untagged path for another's.) A load balancer that comes back
  therefore never takes the clients of the one that serves. A change of
  metric adds the new route before it removes the old: the path is never
  withdrawn on the way.
- SIGTERM (systemctl stop: maintenance's drain) withdraws and exits.
- Its state, for verify, the drain and the metrics: ``STATE_DIR/gate.json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import sys
import time

ROUTE_PROTO = 'static'
# check-haproxy's exit status when haproxy refused the connection (curl: couldn't connect)
REFUSED = 7


class Gate(object):
    """The announce/withdraw decision from check results (``rise`` passes in a
    row announce, ``fall`` failures in a row withdraw); starts withdrawn."""

    def __init__(self, fall, rise):
        self.fall, self.rise = int(fall), int(rise)
        self.announced = False
        self.passed = self.failed = 0

    def step(self, ok, at_once=False):
        """One check result (``at_once``: a failure that withdraws without waiting
        for ``fall``); returns whether the VIP should be announced now."""
        if ok:
            self.passed, self.failed = self.passed + 1, 0
        else:
            self.passed, self.failed = 0, max(self.failed + 1, self.fall if at_once else 0)
        if self.announced and self.failed >= self.fall:
            self.announced = False
        elif not self.announced and self.passed >= self.rise:
            self.announced = True
        return self.announced


def metric_for(config, others_serve):
    """The kernel route's metric: STANDBY in active_passive while another load
    balancer announces the VIP, else NORMAL."""
    if config.get('mode') == 'active_passive' and others_serve:
        return int(config['metric_standby'])
    return int(config['metric_normal'])


def others_announce(show_json, peers, own=''):
    """Whether a router handed over another load balancer's path to the prefix
    (``show bgp ... PREFIX json``): True for a path from one of ``peers``
    tagged with another large community than ``own``, False when there is none
    (or only this host's own, handed back), None when a router's path carries
    no tag at all (the router strips communities: whose it is cannot be told)."""
    try:
        data = json.loads(show_json or '{}')
    except ValueError:
        return False
    untagged = False
    for path in data.get('paths') or []:
        peer = path.get('peer') or {}
        if peer.get('peerId') not in peers and peer.get('hostname') not in peers:
            continue
        tags = str((path.get('largeCommunity') or {}).get('string') or '').split()
        if not tags:
            untagged = True
        elif own not in tags:
            return True
    return None if untagged else False


def pid_alive(pid_text, exists=None):
    """Whether the process a pid file names runs: True, False (the pid file
    names no process: it died without removing it), or None when the file is
    missing or unreadable (a clean stop removes it; the next check tells)."""
    try:
        pid = int((pid_text or '').split()[0])
    except (IndexError, ValueError):
        return None
    if exists is None:
        def exists(number):
            try:
                os.kill(number, 0)
            except ProcessLookupError:
                return False
            except OSError:  # EPERM: it runs, as another user
                return True
            return True
    return bool(exists(pid))


def family(prefix):
    return ['-6'] if ':' in prefix else ['-4']


def route_commands(prefix, current, wanted):
    """``ip`` argv lists that take the gate's routes for ``prefix`` from the
    metrics in ``current`` to ``wanted`` (None: withdrawn): the new route is
    added before the old ones are removed."""
    def command(verb, metric):
        return ['ip'] + family(prefix) + ['route', verb, 'blackhole', prefix, 'proto', ROUTE_PROTO,
                                          'metric', str(metric)]

    out = []
    if wanted is not None and wanted not in current:
        out.append(command('add', wanted))
    out += [command('del', metric) for metric in sorted(current) if metric != wanted]
    return out


def parse_routes(ip_json):
    """The metrics of the gate's routes in ``ip -j route show PREFIX proto static``."""
    try:
        routes = json.loads(ip_json or '[]')
    except ValueError:
        return []
    return sorted(int(r.get('metric', 0)) for r in routes if r.get('type') == 'blackhole')


def local_route_command(prefix):
    """The VIP delivered locally without an address on any interface (a route of
    type local in the local table): an address would give FRR a connected route
    for the same prefix, which would shadow the gate's kernel route."""
    return ['ip'] + family(prefix) + ['route', 'replace', 'local', prefix, 'dev', 'lo', 'table', 'local']


class Host(object):
    """What the gate does on the host: ``ip``, ``vtysh`` and the check."""

    def __init__(self, config):
        self.config = config

    @staticmethod
    def _run(argv, timeout=5):
        try:
            # the gate daemon's own program, not a module: no AnsibleModule.run_command here
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                                  timeout=timeout,
                                  universal_newlines=True, check=False)
            return proc.returncode, proc.stdout
        except (OSError, subprocess.TimeoutExpired):
            return 255, ''

    def check(self):
        """The check's exit status (0: can serve)."""
        rc, _out = self._run(self.config['check'], timeout=float(self.config['check_timeout']) + 1)
        return rc

    def routes(self, prefix):
        argv = ['ip', '-j'] + family(prefix) + ['route', 'show', prefix, 'proto', ROUTE_PROTO]
        return parse_routes(self._run(argv)[1])

    def set_routes(self, prefix, wanted):
        for argv in route_commands(prefix, self.routes(prefix), wanted):
            self._run(argv)

    def others_announce(self, prefix):
        afi = 'ipv6' if ':' in prefix else 'ipv4'
        rc, out = self._run(['vtysh', '-c', 'show bgp %s unicast %s json' % (afi, prefix)])
        return others_announce(out, self.config['peers'], self.config.get('community') or '') if rc == 0 else False

    def haproxy_alive(self):
        """pid_alive() of haproxy's pid file (None without one configured)."""
        path = self.config.get('haproxy_pidfile')
        if not path:
            return None
        try:
            with open(path) as handle:
                return pid_alive(handle.read())
        except (IOError, OSError):
            return None

    def deliver_locally(self, prefix):
        self._run(local_route_command(prefix))


def write_state(path, state):
    """``state`` as JSON, replaced atomically."""
    tmp = '%s.%d' % (path, os.getpid())
    with open(tmp, 'w') as handle:
        json.dump(state, handle, sort_keys=True)
    os.rename(tmp, path)


class Runner(object):
    """The gate's loop on ``host`` (a Host), one step per check."""

    def __init__(self, config, host, clock=time.time):
        self.config, self.host, self.clock = config, host, clock
        self.gate = Gate(config['fall'], config['rise'])
        self.metric = None
        self.since = clock()

    def apply(self, metric):
        if metric != self.metric:
            for prefix in self.config['prefixes']:
                self.host.set_routes(prefix, metric)
            self.metric, self.since = metric, self.clock()

    def step(self):
        rc = self.host.check()
        ok = rc == 0
        announce = self.gate.step(ok, at_once=rc == REFUSED)
        others = False
        if announce and self.config.get('mode') == 'active_passive':
            seen = [self.host.others_announce(p) for p in self.config['prefixes']]
            # untagged paths (None): this host's own while it is NORMAL, another's otherwise
            normal = self.metric == int(self.config['metric_normal'])
            others = any(s is True or (s is None and not normal) for s in seen)
        self.apply(metric_for(self.config, others) if announce else None)
        return self.state(ok, others)

    def watch(self):
        """Between checks: a haproxy that died (its pid file names no process)
        withdraws now, as a refused check would. Returns the state when it did."""
        if self.metric is None or self.host.haproxy_alive() is not False:
            return None
        self.gate.step(False, at_once=True)
        self.apply(None)
        return self.state(False)

    def state(self, ok=None, others=False):
        return dict(announced=self.metric is not None, metric=self.metric, since=self.since,
                    standby=self.metric == int(self.config['metric_standby']), others_announce=others,
                    check_ok=ok, passed=self.gate.passed, failed=self.gate.failed,
                    prefixes=list(self.config['prefixes']), mode=self.config.get('mode'), pid=os.getpid())


def load(path):
    with open(path) as handle:
        return json.load(handle)


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    config = load(args[args.index('--config') + 1])
    host = Host(config)
    state_file = os.path.join(config['state_dir'], 'gate.json')
    if '--withdraw' in args:  # ExecStopPost: whatever happened to the loop
        for prefix in config['prefixes']:
            host.set_routes(prefix, None)
        return 0
    if not os.path.isdir(config['state_dir']):
        os.makedirs(config['state_dir'], 0o755)
    for prefix in config['prefixes']:
        host.deliver_locally(prefix)
    runner = Runner(config, host)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        started = time.time()
        write_state(state_file, runner.step())
        while not stopping and time.time() - started < float(config['interval']):
            time.sleep(0.05)
            died = runner.watch()
            if died is not None:
                write_state(state_file, died)
    runner.apply(None)
    write_state(state_file, runner.state())
    return 0


if __name__ == '__main__':
    main()

"""A rogue VRRP speaker on the lab's segment: a stale node with a copied
keepalived.conf (the cluster's VRID, VIP, VRRP version, advert interval and
secret), priority 254, sending unicast adverts to every load balancer. The one
home of it for make chaos (bench/chaos.py) and the default scenario's
test_rogue.py. It runs in a container of its own on the lab's Docker network,
at an address of that network: nothing leaves the lab."""
import ipaddress
import re
import subprocess

CONTAINER = 'kubeha-rogue'
IMAGE = 'kubeha-lab:bookworm'
PRIORITY = 254
CONF = '/etc/keepalived/rogue.conf'


def _docker(*args, check=True):
    result = subprocess.run(['docker'] + list(args), capture_output=True, text=True)
    if check and result.returncode:
        raise RuntimeError('docker %s: %s' % (' '.join(args), result.stderr.strip()))
    return result.stdout


def free_address(vip_cidr, used):
    """A free address in the VIP's subnet, far from the lab's hosts (the top of its first 200)."""
    net = ipaddress.ip_interface(vip_cidr).network
    return next(str(a) for a in reversed(list(net.hosts())[:200]) if str(a) not in set(used))


def copied_settings(conf):
    """What a stale node's copy of a load balancer's keepalived.conf says: VRRP
    version, advert interval and secret (None: VRRPv3 has none)."""
    version = re.search(r'^\s*(?:vrrp_)?version (\d)', conf, re.M)
    secret = re.search(r'auth_pass (\S+)', conf)
    return dict(version=int(version.group(1)) if version else 2,
                advert_int=float(re.search(r'advert_int (\S+)', conf).group(1)),
                secret=secret.group(1) if secret else None)


def config(address, peers, vrid, vip_cidr, version=2, advert_int=1.0, secret=None, interface='eth0'):
    """The rogue's keepalived.conf: MASTER at priority 254, unicast to the peers."""
    lines = ['global_defs {', '    router_id rogue', '}',
             'vrrp_instance VI_1 {', '    state MASTER', '    interface %s' % interface,
             '    version %d' % version, '    virtual_router_id %d' % vrid,
             '    priority %d' % PRIORITY, '    advert_int %g' % advert_int]
    if version == 2 and secret:
        lines += ['    authentication {', '        auth_type PASS', '        auth_pass %s' % secret, '    }']
    lines += (['    unicast_src_ip %s' % address, '    unicast_peer {'] + ['        %s' % p for p in peers]
              + ['    }', '    virtual_ipaddress {', '        %s' % vip_cidr, '    }', '}', ''])
    return '\n'.join(lines)


def create(network, address):
    """Start the rogue's container with keepalived installed; returns its MAC."""
    _docker('rm', '-f', CONTAINER, check=False)
    _docker('run', '-d', '--name', CONTAINER, '--hostname', CONTAINER, '--network', network, '--ip', address,
            '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--entrypoint', 'sleep', IMAGE, 'infinity')
    _docker('exec', CONTAINER, 'sh', '-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive '
            'apt-get install -y -qq --no-install-recommends keepalived >/dev/null')
    return _docker('exec', CONTAINER, 'cat', '/sys/class/net/eth0/address').strip()


def start(conf):
    _docker('exec', CONTAINER, 'sh', '-c', 'cat > %s <<EOF\n%sEOF' % (CONF, conf))
    _docker('exec', '-d', CONTAINER, 'keepalived', '--dont-fork', '--log-console', '--vrrp',
            '--use-file', CONF, '--pid', '/run/rogue.pid', '--vrrp_pid', '/run/rogue-vrrp.pid')


def running():
    return subprocess.run(['docker', 'exec', CONTAINER, 'pgrep', 'keepalived'], capture_output=True).returncode == 0


def stop():
    subprocess.run(['docker', 'exec', CONTAINER, 'pkill', 'keepalived'], capture_output=True)


def holds(vip):
    """Whether the rogue has put the VIP on its own interface."""
    return _docker('exec', CONTAINER, 'ip', '-o', 'addr', 'show', 'to', vip, check=False).strip() != ''


def remove():
    _docker('rm', '-f', CONTAINER, check=False)

"""The converge section: the fleet's ratio, and what apt by itself adds to it."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'bench'))
from report_performance import converge_section  # noqa: E402
from run import _role_packages  # noqa: E402


def row(clusters, lbs, converge_s, rerun_s):
    return {'case': 'converge', 'profile': 'default', 'inventory': 'fleet', 'clusters': clusters,
            'load_balancers': lbs, 'converge_s': converge_s, 'rerun_s': rerun_s, 'rerun_changed': 0, 'cores': 2}


def apt(lbs, wall_s):
    return {'case': 'apt_alone', 'load_balancers': lbs, 'packages': ['haproxy', 'keepalived'],
            'wall_s': wall_s, 'cpu_s': 3.0 * lbs, 'cores': 2}


def test_the_apt_floor_is_one_clusters_converge_plus_what_apt_adds_for_the_others():
    text = ''.join(converge_section({'started': 0, 'runs': [row(1, 2, 20.0, 6.0), row(3, 6, 48.0, 14.0),
                                                             apt(2, 7.0), apt(6, 21.0)]}))
    assert '3 clusters (6 load balancers) took 2.40 times the converge time of 1' in text
    # 20 s + (21 - 7) s: 1.70 times, whatever the playbooks do
    assert '7.0 s on 2 load balancers at once (6.0 CPU-seconds), 21.0 s on 6 (18.0 CPU-seconds)' in text
    assert 'puts 3 clusters at no less than 34.0 s, 1.70 times' in text


def test_without_the_apt_rows_the_section_says_nothing_of_them():
    text = ''.join(converge_section({'started': 0, 'runs': [row(1, 2, 20.0, 6.0), row(3, 6, 48.0, 14.0)]}))
    assert 'took 2.40 times' in text and 'apt by itself' not in text


def test_the_packages_are_the_roles_own():
    assert {'haproxy', 'keepalived'} <= set(_role_packages())


def test_cpu_per_load_balancer_is_reported_against_the_target():
    lab = dict(row(1, 2, 18.0, 5.0), inventory='lab', converge_controller_cpu_per_lb_s=9.1,
               converge_lbs_cpu_per_lb_s=7.0, rerun_controller_cpu_per_lb_s=4.2, rerun_lbs_cpu_per_lb_s=1.1)
    fleet = dict(row(3, 6, 40.0, 11.0), converge_controller_cpu_per_lb_s=4.0, converge_lbs_cpu_per_lb_s=6.5,
                 rerun_controller_cpu_per_lb_s=1.4, rerun_lbs_cpu_per_lb_s=0.9)
    text = ''.join(converge_section({'started': 0, 'runs': [lab, fleet]}))
    assert '| lab | 1 | 2 | 9.10 | 7.00 | 4.20 | 1.10 | not met |' in text
    assert '| fleet | 3 | 6 | 4.00 | 6.50 | 1.40 | 0.90 | met |' in text
    # rows of an older run (no per-load-balancer figures) leave the table out
    assert 'CPU-seconds per load balancer' not in ''.join(converge_section({'started': 0, 'runs': [row(1, 2, 20.0, 6.0)]}))


def bgp_run(case, profile, mode, failed, breaks=0):
    return {'case': case, 'profile': profile, 'mode': mode, 'failed': failed, 'delayed': 3, 'longest_wait_ms': 1040.0,
            'streams': {'breaks': breaks}, 'kubectl': {'failed': 0, 'stream_ends': 1}}


def test_bgp_rows_stand_next_to_the_vrrp_row_of_the_same_fault():
    from report_performance import bgp_section
    bgp = {'rate': 100, 'streams': 8, 'n': 2, 'n_heavy': 1, 'machine': {'router_hash': '1', 'frr': 'FRR 8.4.4'},
           'runs': [bgp_run('lb_poweroff', 'fast', 'ecmp', 0), bgp_run('lb_poweroff', 'fast', 'ecmp', 2),
                    bgp_run('lb_return', 'default', 'active_passive', 0, breaks=0)]}
    vrrp = {'runs': [{'case': 'holder_container_kill', 'profile': 'fast', 'failed': 10, 'delayed': 22,
                      'longest_wait_ms': 1044.1}]}
    lines = ''.join(bgp_section(bgp, vrrp)).splitlines()
    crash = [line for line in lines if line.startswith('| a load balancer powered off') and '| fast |' in line]
    assert len(crash) == 1 and '| 2 | 1 / 2 | 3 / 3 | 1040 |' in crash[0] and crash[0].endswith('| 10 / 10 ; 22 / 22 ; 1044.1 |')
    returning = [line for line in lines if line.startswith('| a load balancer returns')]
    assert returning == [line for line in returning if '| active-passive | default | 1 |' in line and line.endswith('| - |')]
    assert bgp_section({'runs': []}, vrrp) == []

"""The listening sockets and their holders, from a /proc tree made here."""
import os

from ansible_collections.kubeha.control_plane.plugins.module_utils import sockets as S

TCP = '''  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0
   1: 0100007F:20D4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0 100 0 0 10 0
   2: 0B00D50A:0016 0100D50A:C350 01 00000000:00000000 02:0000A0F5 00000000     0        0 1003 4 0 20 10 -1
'''
TCP6 = '''  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:192B 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1004 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1005 1 0 100 0 0 10 0
'''
UDP = '''   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:12BF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 0 2 0 0
'''


def test_tables_are_parsed_for_listeners_only():
    assert S.parse_table(TCP, 'tcp', 4) == [
        dict(proto='tcp', family=4, address='0.0.0.0', port=22, inode=1001),
        dict(proto='tcp', family=4, address='127.0.0.1', port=8404, inode=1002)]  # not the established one
    assert [(e['address'], e['port']) for e in S.parse_table(TCP6, 'tcp', 6)] == [('::', 6443), ('::1', 8080)]
    assert S.parse_table(UDP, 'udp', 4) == [dict(proto='udp', family=4, address='0.0.0.0', port=4799, inode=0)]


def test_the_unit_comes_from_the_cgroup_even_inside_a_container():
    assert S.unit_of('0::/system.slice/haproxy.service\n') == 'haproxy.service'
    assert S.unit_of('0::/system.slice/docker-ab12.scope/system.slice/ssh.service\n') == 'ssh.service'
    assert S.unit_of('0::/user.slice/user-0.slice/session-3.scope\n') == 'session-3.scope'
    assert S.unit_of('0::/\n') == ''


def test_listening_names_each_holder(tmp_path):
    proc = tmp_path
    (proc / 'net').mkdir()
    for name, text in (('tcp', TCP), ('tcp6', TCP6), ('udp', UDP), ('udp6', UDP.splitlines()[0] + '\n')):
        (proc / 'net' / name).write_text(text)
    for pid, comm, unit, inodes in (('411', 'sshd', 'ssh.service', [1001]),
                                    ('500', 'haproxy', 'haproxy.service', [1002, 1004, 1002])):
        (proc / pid / 'fd').mkdir(parents=True)
        (proc / pid / 'comm').write_text(comm + '\n')
        (proc / pid / 'cgroup').write_text('0::/system.slice/%s\n' % unit)
        for fd, inode in enumerate(inodes):
            os.symlink('socket:[%d]' % inode, str(proc / pid / 'fd' / str(fd)))
        os.symlink('/dev/null', str(proc / pid / 'fd' / '99'))
    (proc / 'self').mkdir()
    found = S.listening(str(proc))
    assert found[0] == dict(proto='tcp', family=4, address='0.0.0.0', port=22, pid=411, process='sshd',
                            unit='ssh.service')
    assert [(e['port'], e['process']) for e in found] == [(22, 'sshd'), (6443, 'haproxy'), (8080, ''),
                                                          (8404, 'haproxy'), (4799, '')]
    assert found[-1]['pid'] == 0  # a socket no process holds: a tunnel's

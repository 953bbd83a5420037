import { describe, expect, test } from 'vitest';
import { parseKeepalivedConf, printKeepalivedConf } from '../../src/config/keepalived';
import { formatIp4 } from '../../src/net/addr';

const REF = `global_defs {
    router_id dir1
}
virtual_server 172.16.29.6 9001 {
    delay_loop 3
    lb_algo rr
    lb_kind TUN
    protocol TCP
    real_server 172.16.197.3 9001 {
        TCP_CHECK {
            connect_port 9001
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
    real_server 192.168.134.5 9001 {
        weight 3
        inhibit_on_failure
        HTTP_GET {
            url {
                path /health
                status_code 200 204
            }
            connect_timeout 1.5
        }
    }
}
`;

const parse = (t: string) => parseKeepalivedConf(t, '/etc/keepalived/keepalived.conf');
const tools = (t: string) => parse(t).diagnostics.map(d => d.tool);

describe('keepalived.conf (lib/parser.c process_stream, check_parser.c)', () => {
  test('reads the virtual_server, real servers and checkers of an LVS-TUN director', () => {
    const { config, diagnostics } = parse(REF);
    expect(diagnostics).toEqual([]);
    expect(config.routerId).toBe('dir1');
    const vs = config.virtualServers[0];
    expect([formatIp4(vs.addr), vs.port, vs.lbAlgo, vs.lbKind, vs.protocol, vs.delayLoopNs]).toEqual(['172.16.29.6', 9001, 'rr', 'TUN', 'TCP', 3e9]);
    expect(vs.realServers.map(r => [formatIp4(r.addr), r.port, r.weight, r.inhibit])).toEqual([['172.16.197.3', 9001, 1, false], ['192.168.134.5', 9001, 3, true]]);
    const [tcp, http] = vs.realServers.map(r => r.checkers[0]);
    expect([tcp.kind, tcp.connectPort, tcp.connectTimeoutNs, tcp.retry, tcp.delayBeforeRetryNs]).toEqual(['TCP_CHECK', 9001, 2e9, 1, 1e9]);
    expect([http.kind, http.connectTimeoutNs, http.urls]).toEqual(['HTTP_GET', 1.5e9, [{ path: '/health', statusCodes: [200, 204], line: 21 }]]);
  });

  test("keepalived's defaults: wlc, NAT, delay_loop 60, quorum 1, weight 1", () => {
    const vs = parse('virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n }\n}\n').config.virtualServers[0];
    expect([vs.lbAlgo, vs.lbKind, vs.delayLoopNs, vs.quorum, vs.hysteresis, vs.connectTimeoutNs, vs.realServers[0].weight]).toEqual(['wlc', 'NAT', 60e9, 1, 0, 5e9, 1]);
  });

  test('prints back its normal form, and reads that form to the same configuration', () => {
    const once = printKeepalivedConf(parse(REF).config);
    expect(printKeepalivedConf(parse(once).config)).toBe(once);
    expect(parse(once).diagnostics).toEqual([]);
  });

  test('braces on the next line, several blocks on one line, comments with # and !', () => {
    const { config, diagnostics } = parse('virtual_server 10.0.0.1 80\n{  # the VS\n  lb_algo sh ! source hash\n  real_server 10.0.0.2 80 { TCP_CHECK { connect_timeout 3 } }\n}\n');
    expect(diagnostics).toEqual([]);
    expect(config.virtualServers[0].lbAlgo).toBe('sh');
    expect(config.virtualServers[0].realServers[0].checkers[0].connectTimeoutNs).toBe(3e9);
  });

  test("an unknown keyword is reported as keepalived reports it, at file:line:col, and the rest loads", () => {
    const text = REF.replace('    lb_kind TUN', '    lb_kin TUN');
    const { config, diagnostics } = parse(text);
    expect(diagnostics).toHaveLength(1);
    const d = diagnostics[0];
    expect([d.file, d.line, d.col, d.found]).toEqual(['/etc/keepalived/keepalived.conf', 7, 5, 'lb_kin']);
    expect(d.tool).toBe("(Line 7) Unknown keyword 'lb_kin'");
    expect(d.expected).toContain("did you mean 'lb_kind'?");
    expect(config.virtualServers[0].realServers).toHaveLength(2);
    expect(config.virtualServers[0].lbKind).toBe('NAT');
  });

  test.each([
    ['    lb_algo rr', '    lb_algo rrr', "(Line 6) Invalid lvs_scheduler 'rrr' - ignoring"],
    ['    lb_kind TUN', '    lb_kind TUNNEL', '(Line 7) PARSER : unknown [TUNNEL] routing method for virtual server.'],
    ['        weight 3', '        weight 70000', '(Line 18) Real server weight 70000 is outside range 0-65535'],
    ['    delay_loop 3', '    delay_loop 3s', "(Line 5) virtual server delay loop '3s' invalid - ignoring"],
    ['            connect_port 9001', '            connect_port 90o1', "(Line 11) Invalid checker connect_port '90o1'"],
    ['            retry 1', '            retry x', "(Line 13) Invalid retry connection value 'x'"],
    ['    protocol TCP', '    protocol ICMP', '(Line 8) Unknown protocol ICMP - ignoring'],
    ['    real_server 172.16.197.3 9001 {', '    real_server 172.16.197.300 9001 {', '(Line 9) Invalid real server ip address/port 172.16.197.300/9001 - skipping'],
    ['                status_code 200 204', '                status_code 200 2O4', "(Line 23) Invalid HTTP_GET status code '2O4'"],
    ['    lb_algo rr', '    lb_algo', '(Line 6) *** Configuration line starting `lb_algo` is missing a parameter at word position 2'],
  ])('%s -> %s: keepalived\'s message', (from, to, msg) => {
    expect(tools(REF.replace(from, to))).toEqual([msg]);
  });

  test('unbalanced braces: "Extra \'}\' found" and "There are N missing \'}\'s"', () => {
    expect(tools(REF + '}\n')).toEqual(["(Line 29) Extra '}' found"]);
    expect(tools(REF.replace(/}\n$/, ''))).toEqual(["(Line 4) There are 1 missing '}'s or extra '{'s"]);
  });

  test('an unknown keyword with a block has its block skipped, not read as keywords', () => {
    expect(tools('virtual_server 10.0.0.1 80 {\n  MY_CHECK {\n    foo 1\n  }\n  lb_algo rr\n}\n')).toEqual(["(Line 2) Unknown keyword 'MY_CHECK'"]);
  });

  test('what lvsim does not model is recorded, to be refused when keepalived starts', () => {
    const { config } = parse('virtual_server fwmark 1 {\n}\nvirtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  MISC_CHECK {\n   misc_path /bin/true\n  }\n }\n}\n');
    expect(config.unmodelled.map(u => u.line)).toEqual([1, 5]);
    expect(parse('vrrp_instance VI_1 {\n    interface eth1\n    use_vmac\n}\n').config.unmodelled).toEqual([{ line: 3, what: 'use_vmac: VMAC interfaces' }]);
  });

  test('script hooks and notify FIFOs are refused at their line, never silently accepted; script security alone is accepted', () => {
    const { config, diagnostics } = parse(`global_defs {
    enable_script_security
    script_user root
    notify_fifo /run/ka.fifo
    vrrp_notify_fifo /run/vrrp.fifo
    lvs_notify_fifo /run/lvs.fifo
    startup_script /bin/true
}
vrrp_sync_group G1 {
    group {
        VI_1
    }
    notify_master /bin/true
    notify /bin/true
}
vrrp_instance VI_1 {
    interface eth1
    virtual_router_id 51
    notify_master "/usr/local/bin/become_master.sh"
    notify_backup /bin/true
    notify_fault /bin/true
    notify_stop /bin/true
    notify /bin/true
    virtual_ipaddress {
        172.16.29.6/32
    }
}
virtual_server 10.0.0.1 80 {
    quorum_up "/bin/true"
    quorum_down /bin/false
    real_server 10.0.0.2 80 {
        notify_up "/bin/echo up"
        notify_down /bin/false
    }
}
`);
    expect(diagnostics).toEqual([]);
    expect(config.unmodelled.map(u => `${u.line} ${u.what}`)).toEqual([
      '4 notify_fifo: a notify FIFO (notifications are not written)',
      '5 vrrp_notify_fifo: a notify FIFO (notifications are not written)',
      '6 lvs_notify_fifo: a notify FIFO (notifications are not written)',
      '7 startup_script: a script (scripts are not run)',
      '13 notify_master: a script (scripts are not run)',
      '14 notify: a script (scripts are not run)',
      '19 notify_master: a script (scripts are not run)',
      '20 notify_backup: a script (scripts are not run)',
      '21 notify_fault: a script (scripts are not run)',
      '22 notify_stop: a script (scripts are not run)',
      '23 notify: a script (scripts are not run)',
      '29 quorum_up: a script (scripts are not run)',
      '30 quorum_down: a script (scripts are not run)',
      '32 notify_up: a script (scripts are not run)',
      '33 notify_down: a script (scripts are not run)',
    ]);
    expect(parse('global_defs {\n    enable_script_security\n    script_user keepalived_script\n}\n')).toMatchObject({ diagnostics: [], config: { unmodelled: [] } });
  });

  test('VRRPv2 carries the interval in whole seconds: a fractional advert_int is rounded, as vrrp_complete_instance does', () => {
    const r = parse('vrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 51\n    advert_int 1.5\n    virtual_ipaddress {\n        172.16.29.6/32\n    }\n}\n');
    expect(r.diagnostics.map(d => d.tool)).toEqual(['(VI_1) VRRPv2 advertisement interval 1.500000s must be an integer. rounding']);
    expect(r.config.vrrpInstances[0].advertIntNs).toBe(2e9);
    expect(parse('vrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 51\n    advert_int 0.2\n    virtual_ipaddress {\n        172.16.29.6/32\n    }\n}\n').config.vrrpInstances[0].advertIntNs).toBe(1e9);
  });

  test('skip_check_adv_addr, per instance or from global_defs vrrp_skip_check_adv_addr for the instances after it', () => {
    const VI = (n: string, more = '') => `vrrp_instance ${n} {\n    interface eth1\n    virtual_router_id 51\n${more}    virtual_ipaddress {\n        172.16.29.6/32\n    }\n}\n`;
    const skips = (text: string) => parse(text).config.vrrpInstances.map(v => v.skipCheckAdvAddr);
    expect(skips(VI('A') + VI('B', '    skip_check_adv_addr\n'))).toEqual([false, true]);
    expect(skips(VI('A') + 'global_defs {\n    vrrp_skip_check_adv_addr\n}\n' + VI('B'))).toEqual([false, true]);
    expect(tools(VI('A', '    skip_check_adv_addr maybe\n'))).toEqual(['(Line 4) (A) invalid skip_check_adv_addr maybe specified']);
    const once = printKeepalivedConf(parse(VI('B', '    skip_check_adv_addr\n')).config);
    expect(parse(once).config.vrrpInstances[0].skipCheckAdvAddr).toBe(true);
  });

  describe('lvs_sync_daemon (global_parser.c lvs_syncd_handler)', () => {
    const VI = 'vrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 51\n    virtual_ipaddress {\n        172.16.29.6/32\n    }\n}\n';
    const sd = (line: string, more = VI) => parse(`global_defs {\n    ${line}\n}\n${more}`);
    const msgs = (r: ReturnType<typeof parse>) => r.diagnostics.map(d => `${d.line}:${d.col} ${d.tool}`);

    test('IFNAME inst NAME id SYNCID, the legacy IF INSTANCE SYNCID, and no instance', () => {
      expect(sd('lvs_sync_daemon eth1 inst VI_1 id 7').config.lvsSyncd).toEqual({ ifname: 'eth1', inst: 'VI_1', syncid: 7, line: 2 });
      expect(sd('lvs_sync_daemon eth1 inst VI_1').config.lvsSyncd).toMatchObject({ inst: 'VI_1', syncid: null });
      expect(sd('lvs_sync_daemon eth1').config.lvsSyncd).toMatchObject({ inst: null, syncid: null });
      const legacy = sd('lvs_sync_daemon eth1 VI_1 9');
      expect(legacy.config.lvsSyncd).toMatchObject({ inst: 'VI_1', syncid: 9 });
      expect(msgs(legacy)).toEqual(['2:31 (Line 2) Please use keyword "id" before lvs_sync_daemon SYNCID']);
      // the kernel's own port, ttl and group change nothing
      const dflt = sd('lvs_sync_daemon eth1 inst VI_1 port 8848 ttl 1 group 224.0.0.81');
      expect([dflt.diagnostics, dflt.config.unmodelled]).toEqual([[], []]);
    });

    test("keepalived's messages for what it ignores, and refusal of what lvsim does not model", () => {
      expect(msgs(sd('lvs_sync_daemon'))).toEqual(['2:20 (Line 2) *** Configuration line starting `lvs_sync_daemon` is missing a parameter at word position 2']);
      expect(msgs(sd('lvs_sync_daemon eth1 id 300'))).toEqual(['2:29 (Line 2) Invalid syncid (300) - defaulting to vrid']);
      expect(msgs(sd('lvs_sync_daemon eth1 id'))).toEqual(['2:26 (Line 2) No value specified for lvs_sync_daemon id, defaulting to vrid']);
      expect(msgs(sd('lvs_sync_daemon eth1 inst VI_1 bogus'))).toEqual(['2:36 (Line 2) Unknown option bogus specified for lvs_sync_daemon']);
      expect(msgs(sd('lvs_sync_daemon averyveryverylongname'))).toEqual(["2:21 (Line 2) lvs_sync_daemon interface name 'averyveryverylongname' too long - ignoring"]);
      const twice = parse('global_defs {\n    lvs_sync_daemon eth1 inst VI_1\n    lvs_sync_daemon eth0\n}\n' + VI);
      expect([msgs(twice), twice.config.lvsSyncd?.ifname]).toEqual([['3:5 (Line 3) lvs_sync_daemon has already been specified as eth1 VI_1 - ignoring'], 'eth1']);
      const missing = sd('lvs_sync_daemon eth1 inst VI_9');
      expect([msgs(missing), missing.config.lvsSyncd]).toEqual([['2:1 Unable to find vrrp instance VI_9 for lvs_syncd - clearing lvs_syncd config'], null]);
      expect(sd('lvs_sync_daemon eth1 inst VI_1 port 9000 maxlen 1000').config.unmodelled.map(u => u.what)).toEqual([
        'lvs_sync_daemon port 9000: a sync port other than 8848', 'lvs_sync_daemon maxlen 1000: a sync message length limit',
      ]);
    });

    test('the deprecated vrrp_instance lvs_sync_daemon_interface still sets it, with the warning', () => {
      const r = parse(VI.replace('    interface eth1\n', '    interface eth1\n    lvs_sync_daemon_interface eth1\n'));
      expect(r.config.lvsSyncd).toMatchObject({ ifname: 'eth1', inst: 'VI_1', syncid: null });
      expect(msgs(r)).toEqual(['3:5 (Line 3) (VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.']);
    });

    test('prints back and reads its normal form', () => {
      const once = printKeepalivedConf(sd('lvs_sync_daemon eth1 inst VI_1 id 7').config);
      expect(once).toContain('    lvs_sync_daemon eth1 inst VI_1 id 7\n');
      expect(parse(once).config.lvsSyncd).toMatchObject({ ifname: 'eth1', inst: 'VI_1', syncid: 7 });
    });
  });

  test('vrrp_instance and vrrp_sync_group', () => {
    const { config, diagnostics } = parse(`vrrp_sync_group G1 {
    group {
        VI_1
    }
}
vrrp_instance VI_1 {
    state MASTER
    interface eth1
    virtual_router_id 51
    priority 150
    advert_int 1
    nopreempt
    virtual_ipaddress {
        172.16.29.6/32 dev eth1
    }
}
`);
    expect(diagnostics).toEqual([]);
    const v = config.vrrpInstances[0];
    expect([v.name, v.state, v.iface, v.vrid, v.priority, v.advertIntNs, v.nopreempt]).toEqual(['VI_1', 'MASTER', 'eth1', 51, 150, 1e9, true]);
    expect(v.vips.map(a => [formatIp4(a.addr), a.len, a.dev])).toEqual([['172.16.29.6', 32, 'eth1']]);
    expect(config.syncGroups).toEqual([{ name: 'G1', line: 1, group: ['VI_1'] }]);
    expect(tools('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 256\n}\n')).toEqual(["(Line 3) (VI_1): VRID '256' not valid - must be between 1 & 255", '(VI_1) the virtual router id must be set', '(VI_1) No VIP specified; at least one is sensible']);
  });
});

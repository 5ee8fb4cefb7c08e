#!/usr/bin/env python3
"""A synthetic pcap for bench/capture.sh: PACKETS Ethernet/IPv4 frames (headers only, the
original lengths kept) over FLOWS 5-tuples (3/4 TCP, 1/4 UDP), spread over ten minutes,
deterministic (seeded).

    bench/gen-pcap.py OUT.pcap PACKETS FLOWS
"""
import struct, sys, random
n = int(sys.argv[2]); flows = int(sys.argv[3]); out = sys.argv[1]
rnd = random.Random(7)
fl = []
for i in range(flows):
    src = bytes([10, 0, (i >> 8) & 255, i & 255]); dst = bytes([10, 1, rnd.randrange(256), rnd.randrange(1, 255)])
    fl.append((src, dst, 1024 + rnd.randrange(60000), rnd.choice([22, 80, 443, 3306, 53]), rnd.choice([6, 6, 6, 17])))
eth = b'\x02\x00\x00\x00\x00\x01' + b'\x02\x00\x00\x00\x00\x02' + b'\x08\x00'
def csum(h):
    s = sum(struct.unpack('!10H', h))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t0 = 1700000000
    for k in range(n):
        src, dst, sp, dp, proto = fl[rnd.randrange(flows)]
        payload = 100 if proto == 6 else 60
        l4 = struct.pack('!HHIIBBHHH', sp, dp, k, 0, 0x50, 0x18, 65535, 0, 0) if proto == 6 else struct.pack('!HHHH', sp, dp, 8 + payload, 0)
        total = 20 + len(l4) + payload
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, total, k & 0xffff, 0, 64, proto, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        cap = eth + ip + l4  # snap the payload off: headers only
        ts = t0 + k * 600 // n
        f.write(struct.pack('<IIII', ts, (k * 7919) % 1000000, len(cap), 14 + total))
        f.write(cap)

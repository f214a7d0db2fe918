"""Small network probes, run with python3 on the box (no DNS or DHCP client there)."""

# A DNS A query for a name (argv 1), sent to a DNS server (argv 2, else the
# box's own dnsmasq); prints the last address of the answer, or NXDOMAIN.
DNS_QUERY = r"""
import socket, struct, sys
name = sys.argv[1]
question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
packet = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(packet, (sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1", 53))
reply = s.recv(512)
answers = struct.unpack(">H", reply[6:8])[0]
print(socket.inet_ntoa(reply[-4:]) if answers else "NXDOMAIN")
"""

# A DHCP DISCOVER on an interface (argv 1); prints the offer as JSON.
DHCP_DISCOVER = r"""
import json, random, socket, struct, sys
iface = sys.argv[1]
mac = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
xid = random.getrandbits(32)
discover = (struct.pack("!BBBBIHH", 1, 1, 6, 0, xid, 0, 0x8000) + bytes(16) + mac + bytes(10 + 192)
            + b"\x63\x82\x53\x63" + bytes([53, 1, 1, 55, 3, 1, 3, 6, 255]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind(("0.0.0.0", 68))
s.settimeout(10)
s.sendto(discover, ("255.255.255.255", 67))
while True:
    reply = s.recv(2048)
    if reply[4:8] == struct.pack("!I", xid):
        break
options, i = {}, 240
while i < len(reply) and reply[i] != 255:
    code, length = reply[i], reply[i + 1]
    options[code] = reply[i + 2:i + 2 + length]
    i += 2 + length
print(json.dumps({"offered": socket.inet_ntoa(reply[16:20]), "type": options[53][0],
                  "router": socket.inet_ntoa(options[3][:4]), "dns": socket.inet_ntoa(options[6][:4])}))
"""

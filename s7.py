from scan7 import Scan7
make=lambda: Scan7(32)

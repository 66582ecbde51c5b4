package testenv

import (
	"fmt"
	"net"
)

// freePorts asks the kernel for n distinct unused loopback ports. Another
// process may grab one before ours binds it; starters retry on "address
// already in use".
func freePorts(n int) ([]int, error) {
	// Hold all listeners until the end so that the n ports are distinct.
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreePorts is freePorts for other harness packages.
func FreePorts(n int) ([]int, error) { return freePorts(n) }

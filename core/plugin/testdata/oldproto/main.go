// Command oldproto is a test plugin that replies to the handshake with
// plugin protocol version 2, which the host must reject naming both
// versions.
package main

import (
	"fmt"
	"time"
)

func main() {
	// The go-plugin handshake line: core protocol version, plugin protocol
	// version, network, address, protocol.
	fmt.Println("1|2|unix|/nonexistent/plugin.sock|grpc|")
	time.Sleep(time.Minute)
}

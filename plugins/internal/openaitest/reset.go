package openaitest

import (
	"net"
	"net/http"
)

// resetConnection closes the connection with a TCP reset, the way a proxy
// that crashed mid-request does.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

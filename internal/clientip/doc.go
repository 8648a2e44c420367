// Package clientip finds the client's address with a trusted-proxy
// strategy: the peer address, or a forwarding header read from the right
// past configured trusted proxies only, so that an untrusted peer cannot
// choose its own address by sending a header.
package clientip

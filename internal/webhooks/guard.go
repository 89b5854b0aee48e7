package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// MaxURL bounds an endpoint's URL.
const MaxURL = 2048

// ErrPrivateAddress is an endpoint address inside a private network: the
// platform does not post there (the address may be the platform's own
// services), unless local endpoints are allowed (dev stack, tests).
var ErrPrivateAddress = errors.New("the address is loopback, private, link-local or otherwise not public")

// CheckURL reports what is wrong with raw as an endpoint's URL: it must be
// an absolute https URL (http too when local endpoints are allowed) with a
// host, no user name or password and no control characters; a host given
// as an IP address must be public unless allowLocal.
func CheckURL(raw string, allowLocal bool) error {
	if raw == "" {
		return errors.New("is required")
	}
	if len(raw) > MaxURL {
		return fmt.Errorf("at most %d characters", MaxURL)
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return errors.New("must not hold spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL with a host")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLocal:
	default:
		return errors.New("must use https")
	}
	if u.User != nil {
		return errors.New("must not carry a user name or password")
	}
	if u.Fragment != "" {
		return errors.New("must not carry a fragment")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !allowLocal && !public(ip) {
		return ErrPrivateAddress
	}
	return nil
}

// public reports whether ip is an address on the public internet.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// reserved are further ranges that are not the public internet.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 maps private IPv4 too
}

// AttemptTimeout bounds one delivery attempt, the endpoint's answer
// included.
const AttemptTimeout = 10 * time.Second

// Client is the HTTP client deliveries go out with: no proxy from the
// environment, no redirects followed (a 3xx is a failed attempt), and,
// unless allowLocal, no connection to an address that is not public,
// checked on the address actually dialled, so a name that resolves
// inside (or changes to, after the endpoint was registered) is refused.
func Client(allowLocal bool) *http.Client { return ClientWithin(allowLocal, AttemptTimeout) }

// ClientWithin is Client with attempts bounded by timeout instead of
// AttemptTimeout (tests that hold answers back on a busy machine).
func ClientWithin(allowLocal bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowLocal {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			if !public(ap.Addr()) {
				return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

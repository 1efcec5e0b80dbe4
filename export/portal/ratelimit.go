package portal

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate-limit defaults: a person opening the page and clicking every part
// never comes close, while a script hammering the portal (and through it
// the store) is slowed to a trickle. Many people can share one address
// (offices, mobile carriers' NAT), hence a generous burst.
const (
	DefaultRate  = 10 // requests per second per client
	DefaultBurst = 20

	limiterIdle  = 10 * time.Minute // a bucket unused this long is forgotten
	limiterSweep = time.Minute      // how often idle buckets are looked for
)

// limiter keeps a token bucket per client address.
type limiter struct {
	rate    rate.Limit
	burst   int
	trusted []netip.Prefix
	now     func() time.Time

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int, trusted []netip.Prefix, now func() time.Time) *limiter {
	return &limiter{rate: rate.Limit(perSecond), burst: burst, trusted: trusted, now: now,
		clients: map[string]*client{}, lastSweep: now()}
}

// allow takes a token from the client's bucket; when there is none it
// returns how long until there will be.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > limiterSweep {
		for k, c := range l.clients {
			if now.Sub(c.seen) > limiterIdle {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	c := l.clients[key]
	if c == nil {
		c = &client{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[key] = c
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// wrap answers 429 with Retry-After to a client over its rate.
func (l *limiter) wrap(next http.Handler, tooMany http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.allow(clientKey(r, l.trusted))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			tooMany(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientKey names the client a request comes from: its address, or, when
// the connection comes from a trusted proxy (a load balancer), the
// right-most address in X-Forwarded-For that is not itself a trusted
// proxy. IPv6 clients are grouped by /64, the block one subscriber gets.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := ap.Addr().Unmap()
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a forged or broken header: stop at the last good hop
			}
			addr = hop.Unmap()
			if !isTrusted(addr, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

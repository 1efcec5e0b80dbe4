package dashboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Auth is the credential a request must carry: a bearer token, or a
// user:password pair for basic authentication.
type Auth struct {
	token      string
	user, pass string
}

// ParseAuth reads an auth file's content: one line, either user:password
// (basic authentication) or a bearer token of at least 16 characters.
func ParseAuth(content []byte) (*Auth, error) {
	line := strings.TrimSpace(string(content))
	if strings.ContainsAny(line, "\r\n") {
		return nil, errors.New("want one line: a bearer token or user:password")
	}
	if user, pass, ok := strings.Cut(line, ":"); ok {
		if user == "" || len(pass) < 12 {
			return nil, errors.New("user:password: want a user name and a password of at least 12 characters")
		}
		return &Auth{user: user, pass: pass}, nil
	}
	if len(line) < 16 {
		return nil, fmt.Errorf("bearer token: want at least 16 characters, got %d", len(line))
	}
	return &Auth{token: line}, nil
}

// Wrap refuses requests without the credential with 401.
func (a *Auth) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allows(r) {
			if a.token == "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="periscope-sunset", charset="UTF-8"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="periscope-sunset"`)
			}
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (a *Auth) allows(r *http.Request) bool {
	if a.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return ok && same(got, a.token)
	}
	user, pass, ok := r.BasicAuth()
	// Both compared, always, so the time taken says nothing about which
	// one was wrong.
	u, p := same(user, a.user), same(pass, a.pass)
	return ok && u && p
}

// same compares in constant time: hashing first makes the time
// independent of the lengths too.
func same(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

package portal

import (
	"fmt"
	"math"
)

// Entropy floor for a link-signing secret, as estimated by secretBits. A
// secret an operator typed or padded (32 spaces, "aaaa...", a word
// repeated) falls far below it; 32 random bytes, in raw, hex or base64
// form, clear it with room to spare.
const (
	minSecretBits        = 128
	minSecretBitsPerByte = 3
)

// secretHint says how to make a secret that passes.
const secretHint = "make one with: head -c 32 /dev/urandom | base64 > secret-file (or openssl rand -hex 32)"

// checkSecret refuses a secret that is short or carries little entropy.
// Messages never show the secret.
func checkSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("secret is %d bytes, want at least %d; %s", len(secret), MinSecretLen, secretHint)
	}
	perByte, total := secretBits(secret)
	if perByte < minSecretBitsPerByte || total < minSecretBits {
		return fmt.Errorf("secret is too predictable (about %.0f bits of estimated entropy, want %d): "+
			"it repeats a pattern or uses few distinct characters; %s", total, minSecretBits, secretHint)
	}
	return nil
}

// secretBits estimates a secret's entropy: the Shannon entropy of its byte
// frequencies (bits per byte) and that times the length of its shortest
// repeating unit ("abcabc..." is worth its first three bytes). It is an
// estimate of how guessable the bytes look, not a proof of randomness: a
// secret derived from a guessable seed can still pass.
func secretBits(b []byte) (perByte, total float64) {
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	for _, n := range counts {
		if n > 0 {
			p := float64(n) / float64(len(b))
			perByte -= p * math.Log2(p)
		}
	}
	return perByte, perByte * float64(period(b))
}

// period is the length of the shortest unit b repeats (len(b) if none).
func period(b []byte) int {
	for p := 1; p < len(b); p++ {
		ok := true
		for i := p; i < len(b) && ok; i++ {
			ok = b[i] == b[i-p]
		}
		if ok {
			return p
		}
	}
	return len(b)
}

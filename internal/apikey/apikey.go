// Package apikey makes and checks the bearer keys API callers present. A key
// is shown to its owner once; the platform keeps only its SHA-256 and a short
// prefix that identifies it in lists and logs without revealing it.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
)

const (
	// scheme marks Tradeloop keys so a leaked one is recognisable in a scan.
	scheme = "tl_"
	// secretBytes of randomness: 200 bits, beyond any guessing.
	secretBytes = 25
	// PrefixLen is how many leading characters of a key are stored in clear.
	PrefixLen = len(scheme) + 8
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a newly made API key.
type Key struct {
	Plain  string   // shown once, never stored
	Prefix string   // stored, shown in lists
	Hash   [32]byte // stored, looked up on each request
}

// New makes a random key.
func New() (Key, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	plain := scheme + strings.ToLower(encoding.EncodeToString(b))
	return Key{Plain: plain, Prefix: plain[:PrefixLen], Hash: sha256.Sum256([]byte(plain))}, nil
}

// ErrMalformed is returned for a string that cannot be a Tradeloop key.
var ErrMalformed = errors.New("malformed API key")

// Parse checks a presented key's form and returns the hash to look it up by.
func Parse(plain string) ([32]byte, error) {
	if !strings.HasPrefix(plain, scheme) || len(plain) != len(scheme)+encoding.EncodedLen(secretBytes) {
		return [32]byte{}, ErrMalformed
	}
	if _, err := encoding.DecodeString(strings.ToUpper(plain[len(scheme):])); err != nil {
		return [32]byte{}, ErrMalformed
	}
	return sha256.Sum256([]byte(plain)), nil
}

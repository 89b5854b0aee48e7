// Package historycodec encrypts the payloads Tradeloop hands to Temporal
// (workflow and activity inputs and results, update and query payloads,
// memos, user metadata) with AES-256-GCM, so a deal's history holds no
// party or payment data in clear text. Keys carry IDs so they can rotate:
// payloads are sealed with the first key and opened with whichever key they
// name. Payloads that were never encrypted (histories recorded before the
// codec) pass through Decode unchanged.
//
// Search attributes do not go through the data converter (the SDK encodes
// them with its default converter), so they stay readable for visibility
// queries; nothing secret may go into them.
package historycodec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload: its encoding, and the ID of the key that
// sealed it.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// DevKeys is the key set `make dev` and the tests use when HISTORY_KEYS is
// unset. It is published in the source, so it protects nothing: production
// configuration has no default and requires HISTORY_KEYS.
const DevKeys = "dev-1:ZGV2LW9ubHktdHJhZGVsb29wLWhpc3Rvcnkta2V5ISE="

// Key is one AES-256 key and the ID payloads name it by.
type Key struct {
	ID     string
	Secret []byte
}

var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ParseKeys reads a key list in the form of HISTORY_KEYS:
// "id1:base64key,id2:base64key", each key 32 bytes of standard base64. The
// first key encrypts; all of them decrypt. Errors name key IDs and
// positions, never key material.
func ParseKeys(s string) ([]Key, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no keys: want id:base64key[,id:base64key…]")
	}
	var keys []Key
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("key %d: want id:base64key", i+1)
		}
		if !keyID.MatchString(id) {
			return nil, fmt.Errorf("key %d: ID must be 1 to 64 letters, digits, '.', '_' or '-'", i+1)
		}
		if seen[id] {
			return nil, fmt.Errorf("key %d: ID %q appears twice", i+1, id)
		}
		seen[id] = true
		raw, err := base64.StdEncoding.DecodeString(secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: not standard base64", id)
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("key %q: %d bytes, want %d (AES-256)", id, len(raw), KeySize)
		}
		keys = append(keys, Key{ID: id, Secret: raw})
	}
	return keys, nil
}

// Codec is a converter.PayloadCodec that seals payloads with AES-256-GCM.
// It holds no mutable state and is safe for concurrent use.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New makes a codec that encrypts with keys[0] and decrypts with any of keys.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("history codec: no keys")
	}
	c := &Codec{current: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("history codec: key %q: %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("history codec: key ID %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("history codec: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("history codec: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// Parse is ParseKeys then New.
func Parse(s string) (*Codec, error) {
	keys, err := ParseKeys(s)
	if err != nil {
		return nil, fmt.Errorf("history keys: %w", err)
	}
	return New(keys)
}

// CurrentKeyID is the ID of the key new payloads are sealed with.
func (c *Codec) CurrentKeyID() string { return c.current }

// DataConverter is the SDK's default converter with this codec after it:
// every Temporal client the platform makes uses it, so the worker and the
// API read what the other wrote.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// ConnectionOptions is how a client carrying this codec's payloads
// connects: without gRPC's gzip, which the SDK turns on by default and which
// cannot shrink ciphertext; it only spent CPU on both ends (a fifth of a
// live deal's CPU, in a profile of the at-every-cap test).
func ConnectionOptions() client.ConnectionOptions {
	return client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}}
}

// Encode seals each payload, metadata and data, with the current key. The
// key ID is bound to the ciphertext as additional data, so a payload
// relabelled with another key's ID does not open.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("history codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("history codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode opens each encrypted payload with the key it names, and passes
// through payloads that are not encrypted.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("history codec: payload encrypted with unknown key ID %q: add that key to HISTORY_KEYS", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("history codec: payload under key %q is too short to be encrypted", id)
		}
		nonce, sealed := data[:aead.NonceSize()], data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, []byte(id))
		if err != nil {
			return nil, fmt.Errorf("history codec: payload under key %q does not open (wrong key or altered): %w", id, err)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("history codec: unmarshal payload under key %q: %w", id, err)
		}
		out[i] = &dec
	}
	return out, nil
}

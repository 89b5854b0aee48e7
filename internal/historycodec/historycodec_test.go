package historycodec_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tradeloop/tradeloop/internal/historycodec"
)

func key(id string, fill byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, historycodec.KeySize))
}

func mustParse(t *testing.T, s string) *historycodec.Codec {
	t.Helper()
	c, err := historycodec.Parse(s)
	require.NoError(t, err)
	return c
}

func TestRoundTripHidesData(t *testing.T) {
	c := mustParse(t, key("k1", 1))
	dc := c.DataConverter()
	secret := "IBAN DE89 3704 0044 0532 0130 00"
	p, err := dc.ToPayload(secret)
	require.NoError(t, err)
	require.Equal(t, historycodec.EncodingEncrypted, string(p.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(p.Metadata[historycodec.MetadataKeyID]))
	raw, err := p.Marshal()
	require.NoError(t, err)
	require.NotContains(t, string(raw), "IBAN")
	require.NotContains(t, string(raw), "json/plain", "the inner encoding is sealed too")

	var got string
	require.NoError(t, dc.FromPayload(p, &got))
	require.Equal(t, secret, got)
}

func TestEncodeIsRandomized(t *testing.T) {
	c := mustParse(t, key("k1", 1))
	in := []*commonpb.Payload{{Data: []byte("same")}}
	a, err := c.Encode(in)
	require.NoError(t, err)
	b, err := c.Encode(in)
	require.NoError(t, err)
	require.NotEqual(t, a[0].Data, b[0].Data)
}

func TestDecodePassesThroughPlainPayloads(t *testing.T) {
	c := mustParse(t, key("k1", 1))
	plain, err := converter.GetDefaultDataConverter().ToPayload("recorded before encryption")
	require.NoError(t, err)
	out, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Same(t, plain, out[0])
	var got string
	require.NoError(t, c.DataConverter().FromPayload(plain, &got))
	require.Equal(t, "recorded before encryption", got)
}

func TestRotationOldKeyStillDecrypts(t *testing.T) {
	old := mustParse(t, key("2025-a", 1))
	sealed, err := old.DataConverter().ToPayload("sealed under the old key")
	require.NoError(t, err)

	rotated := mustParse(t, key("2026-b", 2)+","+key("2025-a", 1))
	require.Equal(t, "2026-b", rotated.CurrentKeyID())
	var got string
	require.NoError(t, rotated.DataConverter().FromPayload(sealed, &got))
	require.Equal(t, "sealed under the old key", got)

	fresh, err := rotated.DataConverter().ToPayload("new")
	require.NoError(t, err)
	require.Equal(t, "2026-b", string(fresh.Metadata[historycodec.MetadataKeyID]))
}

func TestUnknownKeyIDErrorsClearly(t *testing.T) {
	sealed, err := mustParse(t, key("retired", 1)).DataConverter().ToPayload("x")
	require.NoError(t, err)
	_, err = mustParse(t, key("k2", 2)).Decode([]*commonpb.Payload{sealed})
	require.ErrorContains(t, err, `unknown key ID "retired"`)
}

func TestRelabelledOrAlteredPayloadFails(t *testing.T) {
	c := mustParse(t, key("a", 1)+","+key("b", 1)) // same secret, other ID
	sealed, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{
		converter.MetadataEncoding: []byte(historycodec.EncodingEncrypted), historycodec.MetadataKeyID: []byte("b"),
	}, Data: sealed[0].Data}
	_, err = c.Decode([]*commonpb.Payload{relabelled})
	require.ErrorContains(t, err, "does not open")

	altered := &commonpb.Payload{Metadata: sealed[0].Metadata, Data: bytes.Clone(sealed[0].Data)}
	altered.Data[len(altered.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{altered})
	require.ErrorContains(t, err, "does not open")

	short := &commonpb.Payload{Metadata: sealed[0].Metadata, Data: []byte{1, 2}}
	_, err = c.Decode([]*commonpb.Payload{short})
	require.ErrorContains(t, err, "too short")
}

func TestParseKeysRejectsBadInput(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	for name, in := range map[string]string{
		"empty":      " ",
		"no colon":   "k1" + secret,
		"bad id":     "k 1:" + secret,
		"not base64": "k1:!!!",
		"short key":  "k1:" + base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!")),
		"duplicate":  "k1:" + secret + ",k1:" + secret,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := historycodec.ParseKeys(in)
			require.Error(t, err)
			require.NotContains(t, err.Error(), secret, "errors never quote key material")
		})
	}
	keys, err := historycodec.ParseKeys(historycodec.DevKeys)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.True(t, strings.HasPrefix(historycodec.DevKeys, keys[0].ID+":"))
}

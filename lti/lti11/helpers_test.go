package lti11

import (
	"context"
	"strconv"
	"time"

	"github.com/ltipub/ltipub/lti"
)

type memNonces map[string]bool

func (m memNonces) UseNonce(_ context.Context, key, nonce string, _ time.Time) error {
	if m[key+"\x00"+nonce] {
		return lti.ErrNonceReused
	}
	m[key+"\x00"+nonce] = true
	return nil
}

func fixedNow(ts string) func() time.Time {
	v, _ := strconv.ParseInt(ts, 10, 64)
	return func() time.Time { return time.Unix(v, 0) }
}

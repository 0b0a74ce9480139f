package web

import (
	"bytes"
	"encoding/binary"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionCodec stores ltipub's sessions, whose values are strings, integers and booleans, in a small binary form.
// scs's default gob codec builds a decoder with its type information for every session read: 0.05 ms of CPU per
// page view, the largest single cost of loading a session after the database read (docs/performance.md). Session
// data written by the gob codec (before this codec, or holding a value of another type) still decodes, so sessions
// survive the upgrade.
type SessionCodec struct{}

// sessionMagic starts every session this codec writes. A gob stream starts with a non-zero message length, so it
// can never start with a zero byte.
const sessionMagic = "\x00LP1"

const (
	tagString = 's'
	tagInt64  = 'i'
	tagInt    = 'n'
	tagTrue   = 't'
	tagFalse  = 'f'
)

// Encode writes the deadline and values; a value of a type it does not know makes it write the whole session with
// gob instead, as scs would.
func (SessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 64+16*len(values))
	b = append(b, sessionMagic...)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		switch v := v.(type) {
		case string:
			b = append(b, tagString)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		case int64:
			b = append(b, tagInt64)
			b = binary.AppendVarint(b, v)
		case int:
			b = append(b, tagInt)
			b = binary.AppendVarint(b, int64(v))
		case bool:
			if v {
				b = append(b, tagTrue)
			} else {
				b = append(b, tagFalse)
			}
		default:
			return scs.GobCodec{}.Encode(deadline, values)
		}
	}
	return b, nil
}

var errSessionData = errors.New("session data is damaged")

// Decode reads what Encode wrote, or gob data.
func (SessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if !bytes.HasPrefix(b, []byte(sessionMagic)) {
		return scs.GobCodec{}.Decode(b)
	}
	r := b[len(sessionMagic):]
	varint := func() (int64, bool) {
		v, n := binary.Varint(r)
		if n <= 0 {
			return 0, false
		}
		r = r[n:]
		return v, true
	}
	bytesField := func() (string, bool) {
		l, n := binary.Uvarint(r)
		if n <= 0 || uint64(len(r)-n) < l {
			return "", false
		}
		s := string(r[n : n+int(l)])
		r = r[n+int(l):]
		return s, true
	}
	deadline, ok := varint()
	if !ok {
		return time.Time{}, nil, errSessionData
	}
	count, n := binary.Uvarint(r)
	if n <= 0 || count > uint64(len(r)) {
		return time.Time{}, nil, errSessionData
	}
	r = r[n:]
	values := make(map[string]any, count)
	for range count {
		k, ok := bytesField()
		if !ok || len(r) == 0 {
			return time.Time{}, nil, errSessionData
		}
		tag := r[0]
		r = r[1:]
		switch tag {
		case tagString:
			v, ok := bytesField()
			if !ok {
				return time.Time{}, nil, errSessionData
			}
			values[k] = v
		case tagInt64, tagInt:
			v, ok := varint()
			if !ok {
				return time.Time{}, nil, errSessionData
			}
			if tag == tagInt {
				values[k] = int(v)
			} else {
				values[k] = v
			}
		case tagTrue:
			values[k] = true
		case tagFalse:
			values[k] = false
		default:
			return time.Time{}, nil, errSessionData
		}
	}
	if len(r) != 0 {
		return time.Time{}, nil, errSessionData
	}
	return time.Unix(0, deadline).UTC(), values, nil
}

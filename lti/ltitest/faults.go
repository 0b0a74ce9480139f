package ltitest

import (
	"net/http"
	"strconv"
	"time"
)

// Service names a group of endpoints for fault injection.
type Service string

// Services that take faults.
const (
	ServiceToken    Service = "token"
	ServiceAGS      Service = "ags"
	ServiceNRPS     Service = "nrps"
	ServiceRegister Service = "register"
	// ServiceJWKS is the platform's own keyset (GET /jwks): a FaultStatus with a body of one's choosing serves an
	// unusable keyset (a symmetric key, a key for another algorithm), as a misconfigured platform might.
	ServiceJWKS Service = "jwks"
	// ServicePNS is the notice handler service (PUT and GET /pns/<deployment>).
	ServicePNS Service = "pns"
)

// FaultKind is what a faulty endpoint does.
type FaultKind int

// Fault kinds.
const (
	// FaultTooManyRequests answers 429 with Retry-After.
	FaultTooManyRequests FaultKind = iota + 1
	// FaultServerError answers 500.
	FaultServerError
	// FaultGarbageJSON answers 200 with a body that is not JSON.
	FaultGarbageJSON
	// FaultPagingLoop makes container GETs link rel="next" to the same page.
	FaultPagingLoop
	// FaultSlow waits Delay (or until the client gives up) then answers
	// normally.
	FaultSlow
	// FaultStatus answers Status with Body (e.g. an OAuth error or a
	// registration error).
	FaultStatus
)

// Fault is an injected failure for the next Count requests of Service.
type Fault struct {
	Service Service
	Kind    FaultKind
	// Count is how many requests are affected (default 1; -1 = until
	// ClearFaults).
	Count      int
	RetryAfter int // seconds, for FaultTooManyRequests (default 1)
	Delay      time.Duration
	Status     int
	Body       string
	// ContentType of Body (default application/json).
	ContentType string
	// Until, for FaultSlow, holds the request until it is closed instead of for Delay: a test decides when the
	// platform answers (something happens while a sync is waiting on a roster page). Arrived, when set, gets a
	// value (without blocking: give it a buffer) as each held request arrives.
	Until   <-chan struct{}
	Arrived chan<- struct{}
}

// InjectFault queues a fault. Faults of one service apply in order.
func (p *Platform) InjectFault(f Fault) {
	if f.Count == 0 {
		f.Count = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// ClearFaults removes all pending faults.
func (p *Platform) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

// takeFault consumes one use of the first fault for svc.
func (p *Platform) takeFault(svc Service) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.faults {
		if f.Service != svc {
			continue
		}
		c := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				p.faults = append(p.faults[:i], p.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

// applyFault answers r with a fault if one is pending for svc. It returns
// handled when the response was written. A paging-loop fault is reported
// through loop (only for container GETs) and the handler builds the bad link.
func (p *Platform) applyFault(w http.ResponseWriter, r *http.Request, svc Service, container bool) (handled, loop bool) {
	f := p.takeFault(svc)
	if f == nil {
		return false, false
	}
	switch f.Kind {
	case FaultTooManyRequests:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(ra))
		writeJSON(w, http.StatusTooManyRequests, "application/json", map[string]string{"error": "rate_limited"})
		return true, false
	case FaultServerError:
		http.Error(w, "injected server error", http.StatusInternalServerError)
		return true, false
	case FaultGarbageJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"members": [ {"user_id": "u1", ` + "\x00<html>oops"))
		return true, false
	case FaultSlow:
		d := f.Delay
		if d <= 0 {
			d = 5 * time.Second
		}
		var done <-chan struct{}
		if r != nil {
			done = r.Context().Done()
		}
		if f.Arrived != nil {
			select {
			case f.Arrived <- struct{}{}:
			default:
			}
		}
		wait := time.After(d)
		if f.Until != nil {
			wait = nil
		}
		select {
		case <-wait:
		case <-f.Until:
		case <-done:
			return true, false
		}
		return false, false
	case FaultStatus:
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		st := f.Status
		if st == 0 {
			st = http.StatusBadRequest
		}
		w.WriteHeader(st)
		_, _ = w.Write([]byte(f.Body))
		return true, false
	case FaultPagingLoop:
		return false, container
	}
	return false, false
}

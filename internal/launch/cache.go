package launch

import (
	"context"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/tool"
)

// cacheTTL bounds how stale a cached registration may be. A change made on another instance (or by the CLI) is
// seen within it, well inside the 5 seconds issue 19 allows, while a busy instance reads each registration about
// once per TTL instead of twice per launch.
const cacheTTL = 3 * time.Second // the default of Config.CacheTTL

// generation is offered by stores that count their own writes to cached rows (sqlstore.Store.Generation): a
// change made in this process then applies at once instead of after cacheTTL.
type generation interface{ Generation() int64 }

// regCache keeps registrations for cacheTTL. Only successful reads are kept: an unknown platform is asked again.
type regCache struct {
	inner Registrations
	now   func() time.Time
	gen   func() int64
	ttl   time.Duration

	mu       sync.Mutex
	byIssuer map[string]cachedRegs
	byID     map[int64]cachedReg
}

type cachedRegs struct {
	regs  []tool.Registration
	until time.Time
	gen   int64
}

type cachedReg struct {
	reg   tool.Registration
	until time.Time
	gen   int64
}

func newRegCache(inner Registrations, now func() time.Time, ttl time.Duration) *regCache {
	if ttl <= 0 {
		ttl = cacheTTL
	}
	c := &regCache{inner: inner, now: now, ttl: ttl, gen: func() int64 { return 0 }, byIssuer: map[string]cachedRegs{}, byID: map[int64]cachedReg{}}
	if g, ok := inner.(generation); ok {
		c.gen = g.Generation
	}
	return c
}

func (c *regCache) RegistrationsByIssuer(ctx context.Context, issuer string) ([]tool.Registration, error) {
	now, gen := c.now(), c.gen()
	c.mu.Lock()
	e, ok := c.byIssuer[issuer]
	c.mu.Unlock()
	if ok && now.Before(e.until) && e.gen == gen {
		return e.regs, nil
	}
	regs, err := c.inner.RegistrationsByIssuer(ctx, issuer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.byIssuer) > 10000 { // bound the memory an issuer flood can take
		clear(c.byIssuer)
	}
	c.byIssuer[issuer] = cachedRegs{regs, now.Add(c.ttl), gen}
	for _, r := range regs {
		c.byID[r.ID] = cachedReg{r, now.Add(c.ttl), gen}
	}
	c.mu.Unlock()
	return regs, nil
}

func (c *regCache) Registration(ctx context.Context, id int64) (tool.Registration, error) {
	now, gen := c.now(), c.gen()
	c.mu.Lock()
	e, ok := c.byID[id]
	c.mu.Unlock()
	if ok && now.Before(e.until) && e.gen == gen {
		return e.reg, nil
	}
	r, err := c.inner.Registration(ctx, id)
	if err != nil {
		return r, err
	}
	c.mu.Lock()
	if len(c.byID) > 10000 {
		clear(c.byID)
	}
	c.byID[id] = cachedReg{r, now.Add(c.ttl), gen}
	c.mu.Unlock()
	return r, nil
}

func (c *regCache) Registrations(ctx context.Context) ([]tool.Registration, error) {
	return c.inner.Registrations(ctx)
}

package publish

import (
	"context"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/course"
)

// ResourceCache keeps what a launch reads about a published resource (the resource, its course and activity) for
// a few seconds: a busy instance then reads them once per TTL instead of three statements per launch. A change
// made through this instance's Service applies at once; one made on another instance or by the CLI within the
// TTL (issue 19 allows 5 seconds).
type ResourceCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedTarget
	// proxies are LTI 2.0 tool proxies by resource and consumer key, nil for "none" (lti2.go): every 1.1 launch
	// asks whether its consumer key is a tool proxy's GUID.
	proxies map[string]cachedProxy
}

type cachedProxy struct {
	p     *ToolProxy
	until time.Time
	gen   int64
}

type cachedTarget struct {
	r     Resource
	c     course.Course
	a     course.Activity
	until time.Time
	gen   int64
}

// generation is offered by stores that count their own writes to resources, courses and activities
// (sqlstore.Store.Generation): a change made in this process, by any path, then applies at once.
type generation interface{ Generation() int64 }

func (s *Service) generation() int64 {
	if g, ok := s.Store.(generation); ok {
		return g.Generation()
	}
	return 0
}

// NewResourceCache makes a cache whose entries live ttl.
func NewResourceCache(ttl time.Duration) *ResourceCache {
	return &ResourceCache{ttl: ttl, m: map[string]cachedTarget{}, proxies: map[string]cachedProxy{}}
}

func (c *ResourceCache) get(uuid string, now time.Time, gen int64) (cachedTarget, bool) {
	if c == nil {
		return cachedTarget{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[uuid]
	return e, ok && now.Before(e.until) && e.gen == gen
}

func (c *ResourceCache) put(e cachedTarget, now time.Time, gen int64) {
	if c == nil {
		return
	}
	e.until, e.gen = now.Add(c.ttl), gen
	c.mu.Lock()
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[e.r.UUID] = e
	c.mu.Unlock()
}

// Invalidate drops everything: a resource, course or activity changed here.
func (c *ResourceCache) Invalidate() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.m)
	clear(c.proxies)
	c.mu.Unlock()
}

func (c *ResourceCache) getProxy(key string, now time.Time, gen int64) (*ToolProxy, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.proxies[key]
	return e.p, ok && now.Before(e.until) && e.gen == gen
}

func (c *ResourceCache) putProxy(key string, p *ToolProxy, now time.Time, gen int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.proxies) > 10000 {
		clear(c.proxies)
	}
	c.proxies[key] = cachedProxy{p: p, until: now.Add(c.ttl), gen: gen}
	c.mu.Unlock()
}

// resourceByUUID reads a resource, from the cache when fresh.
func (s *Service) resourceByUUID(ctx context.Context, uuid string) (Resource, error) {
	if e, ok := s.Cache.get(uuid, s.now(), s.generation()); ok {
		return e.r, nil
	}
	return s.Store.ResourceByUUID(ctx, uuid)
}

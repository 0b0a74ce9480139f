package sqlstore

import (
	"context"
	"fmt"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
)

// LTI 2.0 tool proxies (internal/publish/lti2.go, migration 00023). Their secrets are sealed like the LTI 1.1
// secrets of published resources.

const toolProxyColumns = `id, published_resource_id, guid, secret, split_secret, consumer_name, product_family, profile_url,
	tool_proxy, created_at`

func (s *Store) scanToolProxy(sc interface{ Scan(...any) error }) (publish.ToolProxy, error) {
	var p publish.ToolProxy
	var created int64
	if err := sc.Scan(&p.ID, &p.ResourceID, &p.GUID, &p.Secret, &p.SplitSecret, &p.ConsumerName, &p.ProductFamily, &p.ProfileURL,
		&p.Proxy, &created); err != nil {
		return publish.ToolProxy{}, mapErr(err)
	}
	var err error
	if p.Secret, err = s.open(purposeToolProxySecret, p.Secret); err != nil {
		return publish.ToolProxy{}, fmt.Errorf("decrypt the secret of tool proxy %d: %w", p.ID, err)
	}
	p.CreatedAt = fromMicros(created)
	return p, nil
}

// SaveToolProxy inserts a tool proxy, or replaces the resource's one with the same GUID (a platform that
// registers again and issues the same GUID), and sets its ID.
func (s *Store) SaveToolProxy(ctx context.Context, p *publish.ToolProxy) error {
	secret, err := s.seal(purposeToolProxySecret, p.Secret)
	if err != nil {
		return err
	}
	err = s.c().row(ctx, `INSERT INTO lti2_tool_proxies (published_resource_id, guid, secret, split_secret, consumer_name,
		product_family, profile_url, tool_proxy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (published_resource_id, guid) DO UPDATE SET secret = excluded.secret, split_secret = excluded.split_secret,
		consumer_name = excluded.consumer_name, product_family = excluded.product_family, profile_url = excluded.profile_url,
		tool_proxy = excluded.tool_proxy, created_at = excluded.created_at
		RETURNING id`,
		p.ResourceID, p.GUID, secret, p.SplitSecret, p.ConsumerName, p.ProductFamily, p.ProfileURL, p.Proxy, micros(p.CreatedAt)).Scan(&p.ID)
	return mapErr(err)
}

// ToolProxy finds a resource's tool proxy by GUID.
func (s *Store) ToolProxy(ctx context.Context, resourceID int64, guid string) (publish.ToolProxy, error) {
	return s.scanToolProxy(s.c().row(ctx, `SELECT `+toolProxyColumns+` FROM lti2_tool_proxies
		WHERE published_resource_id = $1 AND guid = $2`, resourceID, guid))
}

// ToolProxies lists a resource's tool proxies, newest first.
func (s *Store) ToolProxies(ctx context.Context, resourceID int64) ([]publish.ToolProxy, error) {
	rows, err := s.c().query(ctx, `SELECT `+toolProxyColumns+` FROM lti2_tool_proxies WHERE published_resource_id = $1
		ORDER BY created_at DESC, id DESC`, resourceID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []publish.ToolProxy
	for rows.Next() {
		p, err := s.scanToolProxy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// DeleteToolProxy removes a resource's tool proxy.
func (s *Store) DeleteToolProxy(ctx context.Context, resourceID, id int64) error {
	res, err := s.c().exec(ctx, `DELETE FROM lti2_tool_proxies WHERE published_resource_id = $1 AND id = $2`, resourceID, id)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Package store holds what every storage backend and every domain package agree on: the sentinel errors a store
// returns. The SQL implementation lives in store/sqlstore; its conformance suite in store/storetest.
package store

import "errors"

var (
	// ErrNotFound is returned when the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when a unique key (username, issuer + client ID, …) is already taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict is returned when a compare-and-swap update lost to another writer.
	ErrConflict = errors.New("changed by someone else")
)

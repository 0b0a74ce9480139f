package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/secrets"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// SecretsKeyFileName is the key file made beside a SQLite database when no --secrets-key-file is given.
const SecretsKeyFileName = "secrets.key"

// SecretsKeyPath is where the secrets key of the database dsn lives: keyFile when given, else secrets.key beside a
// SQLite file (made on first start). PostgreSQL has no such folder, and instances on several machines must share
// one key, so there it must be given: ltipub refuses to start rather than make a key nobody knows to copy.
func SecretsKeyPath(dsn, keyFile string) (path string, generated bool, err error) {
	if keyFile != "" {
		return keyFile, false, nil
	}
	if sqlstore.IsPostgresDSN(dsn) {
		return "", false, errors.New("with PostgreSQL, ltipub needs --secrets-key-file (or LTIPUB_SECRETS_KEY_FILE): the key that " +
			"encrypts private keys, LTI 1.1 secrets and service tokens in the database. Make one once with " +
			"`ltipub secrets new-key --file /etc/ltipub/secrets.key` (or `openssl rand -base64 32 > /etc/ltipub/secrets.key; chmod 600 /etc/ltipub/secrets.key`), " +
			"give every instance the same file, and back it up apart from the database")
	}
	db := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(db, '?'); i >= 0 {
		db = db[:i]
	}
	return filepath.Join(filepath.Dir(db), SecretsKeyFileName), true, nil
}

// openSecrets gives st its secrets key (reading it, or making it on a SQLite database's first start), checks that
// it is this database's, and seals the secrets still stored in plaintext.
func openSecrets(ctx context.Context, st *sqlstore.Store, keyFile string, log *slog.Logger) error {
	path, canGenerate, err := SecretsKeyPath(st.DSN(), keyFile)
	if err != nil {
		return err
	}
	key, err := secrets.ReadKeyFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && canGenerate:
		sealed, herr := st.HasSecretsCheck(ctx)
		if herr != nil {
			return herr
		}
		if sealed {
			return fmt.Errorf("the secrets key file %s is missing, and this database's secrets were encrypted with it: restore the file "+
				"from your backup (or name it with --secrets-key-file); without it the tool's private keys, LTI 1.1 secrets and "+
				"service tokens cannot be read", path)
		}
		key = secrets.NewKey()
		if err := secrets.WriteKeyFile(path, key); err != nil {
			return fmt.Errorf("make the secrets key: %w", err)
		}
		log.Warn("A NEW SECRETS KEY WAS MADE: "+path+". It encrypts the tool's private keys, LTI 1.1 secrets and service "+
			"tokens in the database. BACK IT UP together with the database, but store the copy apart from it: a database "+
			"backup is useless without this key, and anyone with both can read the secrets.", slog.String("path", path))
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the secrets key file %s does not exist: make it with `ltipub secrets new-key --file %s` on first use, "+
			"or correct --secrets-key-file (LTIPUB_SECRETS_KEY_FILE)", path, path)
	case err != nil:
		return fmt.Errorf("read the secrets key: %w", err)
	}
	box, err := secrets.New(key)
	if err != nil {
		return err
	}
	st.SetSecrets(box)
	if err := st.CheckSecretsKey(ctx); err != nil {
		if errors.Is(err, secrets.ErrWrongKey) {
			hint := "start with the key file this database was encrypted with (restore it from your backup)"
			if _, serr := os.Stat(path + ".new"); serr == nil {
				hint = "a key rotation was interrupted: the new key is in " + path + ".new; move it to " + path
			}
			return fmt.Errorf("wrong secrets key: the key in %s is not the one this database's secrets were encrypted with (%v); %s", path, err, hint)
		}
		return err
	}
	n, err := st.SealSecrets(ctx)
	if err != nil {
		if errors.Is(err, secrets.ErrWrongKey) {
			return fmt.Errorf("wrong secrets key: some secrets in the database were encrypted with another key than the one in %s: %w", path, err)
		}
		return fmt.Errorf("encrypt stored secrets: %w", err)
	}
	if n > 0 {
		log.Info("secrets stored in plaintext are now encrypted", slog.Int("count", n), slog.String("key_file", path))
	}
	return nil
}

// NewSecretsKeyFile writes a new secrets key to path (which must not exist) and says what to do with it.
func NewSecretsKeyFile(path string, w io.Writer) error {
	if err := secrets.WriteKeyFile(path, secrets.NewKey()); err != nil {
		return err
	}
	fmt.Fprintf(w, "a new secrets key is in %s (readable by its owner only).\n"+
		"Give every instance the same file (--secrets-key-file / LTIPUB_SECRETS_KEY_FILE) and back it up apart from the database.\n", path)
	return nil
}

// RotateSecretsKeyOptions are the inputs of RotateSecretsKey.
type RotateSecretsKeyOptions struct {
	DSN     string
	KeyFile string // the current key file; empty: the default (SecretsKeyPath)
	Log     *slog.Logger
}

// RotateSecretsKey makes a new secrets key, re-encrypts every secret in the database with it (one transaction),
// and puts it in place of the current key file, whose old key is kept beside it for backups made before. It is
// the logic of `ltipub secrets rotate-key`. Stop the servers first: they hold the old key until restarted.
func RotateSecretsKey(ctx context.Context, opts RotateSecretsKeyOptions, w io.Writer) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := OpenStoreWith(ctx, opts.DSN, opts.KeyFile, log)
	if err != nil {
		return err
	}
	defer st.Close()
	path, _, err := SecretsKeyPath(opts.DSN, opts.KeyFile)
	if err != nil {
		return err
	}
	key := secrets.NewKey()
	next, err := secrets.New(key)
	if err != nil {
		return err
	}
	// The new key reaches the disk before the database depends on it, so a crash leaves a key that opens it.
	if err := secrets.WriteKeyFile(path+".new", key); err != nil {
		return fmt.Errorf("write the new key: %w (remove %s.new if an earlier rotation left it, after checking that the database does not need it)", err, path)
	}
	n, err := st.RekeySecrets(ctx, next)
	if err != nil {
		os.Remove(path + ".new")
		return fmt.Errorf("re-encrypt the secrets (nothing changed): %w", err)
	}
	old := fmt.Sprintf("%s.old-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, old); err != nil {
		return fmt.Errorf("the secrets are re-encrypted with the key in %s.new, but the old key file could not be moved aside: %w; move %s.new to %s by hand", path, err, path, path)
	}
	if err := os.Rename(path+".new", path); err != nil {
		return fmt.Errorf("the secrets are re-encrypted with the key in %s.new, but it could not be moved into place: %w; move it to %s by hand", path, err, path)
	}
	fmt.Fprintf(w, "re-encrypted %d secrets with the new key %s, now in %s.\n"+
		"The old key is in %s: keep it as long as you keep database backups made before now, then delete it.\n"+
		"Copy the new key file to every instance, start them, and back the new key up.\n", n, next.ID(), path, old)
	return nil
}

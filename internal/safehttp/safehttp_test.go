package safehttp

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"255.255.255.255", false},
		{"64:ff9b::a00:1", false}, // NAT64 of 10.0.0.1
		{"2002:7f00:1::", false},  // 6to4 of 127.0.0.1
		{"8.8.8.8", true},
		{"100.128.0.1", true},
		{"172.32.0.1", true},
		{"2606:4700::1111", true},
		{"64:ff9b::808:808", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := Public(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Public(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	_, err := New(Options{}).Get(srv.URL)
	if !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("default client: err = %v, want ErrBlockedAddress", err)
	}
	var be *BlockedAddressError
	if !errors.As(err, &be) || be.Host != "127.0.0.1" {
		t.Fatalf("want *BlockedAddressError naming the host, got %#v", be)
	}
	if !strings.Contains(err.Error(), "--allow-private-urls") {
		t.Errorf("error does not say how to allow it: %v", err)
	}

	resp, err := New(Options{AllowPrivate: true}).Get(srv.URL)
	if err != nil {
		t.Fatalf("AllowPrivate client: %v", err)
	}
	b, err := ReadLimited(resp, 0)
	if err != nil || string(b) != "ok" {
		t.Fatalf("ReadLimited = %q, %v", b, err)
	}
}

func TestBlockedHostNameIsReported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	_, err := New(Options{}).Get("http://localhost:" + port + "/jwks")
	var be *BlockedAddressError
	if !errors.As(err, &be) || be.Host != "localhost" {
		t.Fatalf("err = %v, want BlockedAddressError for localhost", err)
	}
}

// TestRedirectIsReguarded checks that a redirect from an allowed host to a
// blocked one is refused: the guard runs at every dial.
func TestRedirectIsReguarded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	internal := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secret"))
	}))
	internal.Listener.Close()
	internal.Listener = l
	internal.Start()
	defer internal.Close()

	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL, http.StatusFound)
	}))
	defer public.Close()

	onlyDotOne := func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") }
	_, err = newClient(Options{}, onlyDotOne).Get(public.URL)
	if !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("redirect to 127.0.0.2: err = %v, want ErrBlockedAddress", err)
	}
}

func TestRedirectLimit(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	}))
	defer srv.Close()
	_, err := New(Options{AllowPrivate: true}).Get(srv.URL)
	if err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("err = %v, want redirect limit", err)
	}
}

func TestBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()

	tests := []struct {
		name      string
		clientMax int64
		readMax   int64
		wantErr   error
	}{
		{"fits", 0, 100, nil},
		{"ReadLimited exceeded", 0, 99, ErrBodyTooLarge},
		{"client MaxBody exceeded", 50, 1000, ErrBodyTooLarge},
		{"client MaxBody exact", 100, 1000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := New(Options{AllowPrivate: true, MaxBody: tt.clientMax}).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ReadLimited(resp, tt.readMax)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

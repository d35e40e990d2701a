package main

import (
	"iter"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// named is an app that answers its own name and what the router passed on:
// the path parameters, SCRIPT_NAME and PATH_INFO.
func named(name string) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		args, _ := environ["wsgiorg.routing_args"].(RoutingArgs)
		startResponse("200 OK", []Header{textPlain}, nil)
		return chunks(name, " ", formatNamed(args.Named), " ",
			environ["SCRIPT_NAME"].(string), " ", environ["PATH_INFO"].(string))
	}
}

func formatNamed(named map[string]string) string {
	var parts []string
	for _, key := range []string{"id", "name", "rest"} {
		if value, ok := named[key]; ok {
			parts = append(parts, key+"="+value)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func testRouter() *Router {
	rt := NewRouter()
	rt.Route("GET /", named("root"))
	rt.Route("GET /users/{id}", named("user"))
	rt.Route("GET /users/me", named("me")) // added later, still wins: a literal beats a wildcard
	rt.Route("DELETE /users/{id}", named("delete"))
	rt.Route("POST /users/", named("create"))
	rt.Route("HEAD /head-only", named("head"))
	rt.Route("GET /both", named("get both"))
	rt.Route("HEAD /both", named("head both"))
	rt.Route("/any", named("any"))
	rt.Route("GET /any", named("get any")) // a method beats none
	rt.Route("GET /files/{name}/raw", named("raw"))
	rt.Mount("/api", named("api"))
	return rt
}

func TestRouterPicksTheRoute(t *testing.T) {
	rt := testRouter()
	tests := []struct {
		method, scriptName, path string
		wantStatus, wantBody     string
		wantHeader               Header // one header the answer must have
	}{
		{"GET", "", "/", "200 OK", "root []  /", Header{}},
		{"GET", "", "", "200 OK", "root []  ", Header{}}, // an empty PATH_INFO is the app's root
		{"GET", "", "/users/42", "200 OK", "user [id=42]  /users/42", Header{}},
		{"GET", "", "/users/me", "200 OK", "me []  /users/me", Header{}},
		{"DELETE", "", "/users/42", "200 OK", "delete [id=42]  /users/42", Header{}},
		{"HEAD", "", "/users/42", "200 OK", "user [id=42]  /users/42", Header{}}, // the server drops the body
		{"HEAD", "", "/users/me", "200 OK", "me []  /users/me", Header{}},        // the most specific GET route, as for a GET
		{"HEAD", "", "/any", "200 OK", "get any []  /any", Header{}},             // a GET route beats a method-less one for HEAD too
		{"HEAD", "", "/both", "200 OK", "head both []  /both", Header{}},
		{"HEAD", "", "/head-only", "200 OK", "head []  /head-only", Header{}},
		{"PATCH", "", "/any", "200 OK", "any []  /any", Header{}},
		{"GET", "", "/any", "200 OK", "get any []  /any", Header{}},
		{"GET", "", "/files/a b/raw", "200 OK", "raw [name=a b]  /files/a b/raw", Header{}},
		{"GET", "", "/caf\u00c3\u00a9", "404 Not Found", "", Header{}},
		{"GET", "/mnt", "/users/7", "200 OK", "user [id=7] /mnt /users/7", Header{}}, // routes match PATH_INFO only
		{"POST", "", "/api", "200 OK", "api [] /api ", Header{}},
		{"POST", "", "/api/v1/x", "200 OK", "api [] /api /v1/x", Header{}},
		{"GET", "", "/apix", "404 Not Found", "", Header{}},                                // a prefix ends at a slash
		{"GET", "", "/users", "308 Permanent Redirect", "", Header{"Location", "/users/"}}, // POST /users/ is a route: the other form has one
		{"GET", "", "/user", "404 Not Found", "", Header{}},
		{"GET", "", "/users/", "405 Method Not Allowed", "", Header{"Allow", "POST"}},
		{"PUT", "", "/users/42", "405 Method Not Allowed", "", Header{"Allow", "DELETE, GET, HEAD"}},
		{"OPTIONS", "", "/users/42", "405 Method Not Allowed", "", Header{"Allow", "DELETE, GET, HEAD"}},
		{"GET", "", "/head-only", "405 Method Not Allowed", "", Header{"Allow", "HEAD"}},
		{"GET", "", "/users/42/", "308 Permanent Redirect", "", Header{"Location", "/users/42"}},
		{"GET", "/mnt", "/users/42/", "308 Permanent Redirect", "", Header{"Location", "/mnt/users/42"}},
		{"GET", "", "/files/x/raw/", "308 Permanent Redirect", "", Header{"Location", "/files/x/raw"}},
		{"GET", "", "/files/caf\u00c3\u00a9 ok/raw/", "308 Permanent Redirect", "", Header{"Location", "/files/caf%C3%A9%20ok/raw"}},
		{"GET", "", "//", "308 Permanent Redirect", "", Header{"Location", "/"}},
		{"GET", "", "//evil.example/", "404 Not Found", "", Header{}}, // not 308 to //evil.example: another site
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.scriptName+tt.path, func(t *testing.T) {
			environ := goodEnviron()
			environ["REQUEST_METHOD"], environ["SCRIPT_NAME"], environ["PATH_INFO"] = tt.method, tt.scriptName, tt.path
			status, headers, body, _, p := callApp(rt.App, environ)
			if p != nil {
				t.Fatalf("panic: %v", p)
			}
			if status != tt.wantStatus || tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("got %q %q, want %q %q", status, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantHeader.Name != "" && !containsHeader(headers, tt.wantHeader) {
				t.Errorf("headers %q lack %q", headers, tt.wantHeader)
			}
		})
	}
}

func containsHeader(headers []Header, want Header) bool {
	for _, h := range headers {
		if strings.EqualFold(h.Name, want.Name) && h.Value == want.Value {
			return true
		}
	}
	return false
}

func TestRouterAnswersOptionsAsterisk(t *testing.T) {
	// OPTIONS * is about the server, not a path (RFC 9110 §9.3.7): no
	// route has "*", yet the answer is 200, with no content, and Allow
	// names the methods of all the routes.
	environ := goodEnviron()
	environ["REQUEST_METHOD"], environ["PATH_INFO"] = "OPTIONS", "*"
	status, headers, body, _, p := callApp(testRouter().App, environ)
	if p != nil {
		t.Fatalf("panic: %v", p)
	}
	want := []Header{{"Allow", "DELETE, GET, HEAD, POST"}, {"Content-Length", "0"}}
	if status != "200 OK" || !cmp.Equal(headers, want) || len(body) != 0 {
		t.Errorf("OPTIONS * got %q %q %q, want 200 OK %q and no body", status, headers, body, want)
	}
}

func TestRouterRedirectKeepsTheQuery(t *testing.T) {
	environ := goodEnviron()
	environ["PATH_INFO"], environ["QUERY_STRING"] = "/users/42/", "a=1&b=%20"
	_, headers, _, _, _ := callApp(testRouter().App, environ)
	if want := (Header{"Location", "/users/42?a=1&b=%20"}); !containsHeader(headers, want) {
		t.Errorf("headers %q, want %q", headers, want)
	}
}

func TestRouterRefusesBadPatterns(t *testing.T) {
	for _, pattern := range []string{
		"", "GET", "GET users", "GET  /x", "G(T /x", "/x/{", "/x/{}", "/x/a{id}", "/x/{id}/{id}", "/x/{rest...}",
		"GET /", // already in testRouter
		"GET /users/{other}",
	} {
		t.Run(pattern, func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), "Route(") {
					t.Errorf("Route(%q) panicked with %v, want a message naming Route", pattern, p)
				}
			}()
			testRouter().Route(pattern, named("x"))
		})
	}
	for _, prefix := range []string{"", "api", "/api/", "/{x}", "/caf\u00e9"} {
		t.Run("Mount "+prefix, func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil {
					t.Errorf("Mount(%q) did not panic", prefix)
				}
			}()
			NewRouter().Mount(prefix, named("x"))
		})
	}
}

func TestRouterOrder(t *testing.T) {
	// The same routes in any order give the same answers.
	rt := NewRouter()
	rt.Route("GET /{a}/{b}", named("wild wild"))
	rt.Route("GET /x/{b}", named("literal wild"))
	rt.Route("GET /{a}/y", named("wild literal"))
	var got []string
	for _, path := range []string{"/x/y", "/q/y", "/x/q", "/q/q"} {
		environ := goodEnviron()
		environ["PATH_INFO"] = path
		_, _, body, _, _ := callApp(rt.App, environ)
		got = append(got, strings.SplitN(string(body), " [", 2)[0])
	}
	want := []string{"literal wild", "wild literal", "literal wild", "wild wild"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRouterHeadFollowsGetPrecedence(t *testing.T) {
	// A HEAD is answered as a GET would be, by the same precedence, in
	// whatever order the routes were added: a literal segment beats a
	// wildcard, a method beats none, and a HEAD route of the same path
	// beats its GET route.
	routes := []struct{ pattern, name string }{
		{"GET /hello/{name}", "get wildcard"},
		{"GET /hello/world", "get literal"},
		{"HEAD /page/{id}", "head wildcard"},
		{"GET /page/me", "get literal"},
		{"/any", "any method"},
		{"GET /any", "get"},
		{"/both", "any method"},
		{"GET /both", "get"},
		{"HEAD /both", "head"},
	}
	want := map[string]string{
		"/hello/world": "get literal",
		"/hello/x":     "get wildcard",
		"/page/me":     "get literal", // the literal path first, then the method
		"/page/x":      "head wildcard",
		"/any":         "get",
		"/both":        "head",
	}
	for _, reversed := range []bool{false, true} {
		rt := NewRouter()
		for i := range routes {
			if reversed {
				i = len(routes) - 1 - i
			}
			rt.Route(routes[i].pattern, named(routes[i].name))
		}
		for path, wantName := range want {
			environ := goodEnviron()
			environ["REQUEST_METHOD"], environ["PATH_INFO"] = "HEAD", path
			_, _, body, _, _ := callApp(rt.App, environ)
			if got := strings.SplitN(string(body), " [", 2)[0]; got != wantName {
				t.Errorf("routes added reversed=%v: HEAD %s went to %q, want %q", reversed, path, got, wantName)
			}
		}
	}
}

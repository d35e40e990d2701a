// Package exercise checks the exercise "Keep-alive for HTTP/1.0 clients"; see README.md.
package exercise

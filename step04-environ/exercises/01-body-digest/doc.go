// Package exercise checks the exercise "Digest the body from wsgi.input"; see README.md.
package exercise

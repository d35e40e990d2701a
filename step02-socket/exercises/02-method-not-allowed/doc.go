// Package exercise checks the exercise "405 Method Not Allowed, with Allow"; see README.md.
package exercise

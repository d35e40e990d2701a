// Package exercise checks the exercise "Serve one host name: 421 for the rest"; see README.md.
package exercise

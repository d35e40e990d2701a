// Package exercise checks the exercise "Behind a proxy: the client's address and scheme"; see README.md.
package exercise

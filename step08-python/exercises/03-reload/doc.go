// Package exercise checks the exercise "New code, no lost request"; see README.md.
package exercise

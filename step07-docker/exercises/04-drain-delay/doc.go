// Package exercise checks the exercise "Say you are leaving before you leave"; see README.md.
package exercise

// Package exercise checks the exercise "wsgi.file_wrapper"; see README.md.
package exercise

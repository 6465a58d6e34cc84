"""Display: the course's colours, figures of what the computation modules return, the
package's own source on the page, and the interactive figures' data and HTML. Nothing
here computes a layer."""

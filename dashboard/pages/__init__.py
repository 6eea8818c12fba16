"""One module per page (Dash pages). Modules starting with "_" are helpers, not pages."""

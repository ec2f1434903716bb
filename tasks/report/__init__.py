"""What hkai shows a person: the listings board as a page and as a Prefect artifact, and
search snippets."""

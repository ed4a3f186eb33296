module plexica.dev/reference-plugin

go 1.22

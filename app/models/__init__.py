"""The shapes of the data: ``tables`` what the database stores, ``api`` what requests
and answers carry, ``fields`` the validated field types and limits that both share."""

import re

from fastapi.testclient import TestClient


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_index(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert (body["entities"], body["aliases"], body["database"]) == (4, 5, True)


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/resolve", params={"q": "TTP"})
    client.get("/entities/ttp")
    text = client.get("/metrics").text
    assert re.search(
        r'alias_http_requests_total\{method="GET",route="/resolve",status="200"\} 1', text
    )
    assert 'route="/entities/{entity_id}"' in text
    assert "alias_index_aliases 5.0" in text


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets, page
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the service"
        assert client.get(asset).status_code == 200


def test_openapi_documents_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("tags"), f"{method} {path} has no tags"
            assert operation.get("description"), f"{method} {path} has no description"
    limits = spec["components"]["schemas"]["ResolveRequest"]["properties"]["mentions"]
    assert limits["maxItems"] == 1000

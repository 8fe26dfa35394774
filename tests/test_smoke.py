def test_entries_list_tells_withheld(ana, dr_lee, emp_jo, api_as):
    lee = api_as(dr_lee)
    r = lee.post(
        f"/api/v1/clients/{ana.pk}/entries/",
        {"category": "mental_health", "kind": "note", "title": "PHQ-9", "body": "17"},
        format="json",
    )
    assert r.status_code == 201, r.content
    r = api_as(emp_jo).get(f"/api/v1/clients/{ana.pk}/entries/")
    assert r.status_code == 200
    assert r.json()["withheld_count"] == 1
    assert r.json()["results"] == []

"""Who holds a form: the entities whose name or alias has a given normal form.

A form held by several entities makes its mentions ambiguous, so single edits
refuse to share one unless asked (``allow_shared``), imports refuse to make
one shared that was not, and a dry run lists those it would. Reads go
through the session: what its transaction wrote and has not committed counts.
"""

from collections.abc import Iterable, Mapping

from sqlalchemy import union_all
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.matching.normalize import normalize
from app.models.api import SharedForm
from app.models.tables import Alias, Entity
from app.states import chunks


def owners_of(session: Session, forms: Iterable[str]) -> dict[str, set[str]]:
    """The entities that hold each of ``forms`` as their name or one of their aliases."""
    owners: dict[str, set[str]] = {}
    for chunk in chunks(forms):
        query = union_all(
            select(Alias.normalized, Alias.entity_id).where(col(Alias.normalized).in_(chunk)),
            select(Entity.normalized_name, Entity.id).where(col(Entity.normalized_name).in_(chunk)),
        )
        for form, entity_id in session.execute(query):
            owners.setdefault(form, set()).add(entity_id)
    return owners


def held_by_several(owners: Mapping[str, set[str]]) -> list[SharedForm]:
    several = [(form, ids) for form, ids in owners.items() if len(ids) > 1]
    return [SharedForm(form=form, entity_ids=sorted(ids)) for form, ids in sorted(several)]


def shared_forms(session: Session, forms_by_entity: Mapping[str, set[str]]) -> list[SharedForm]:
    """Of each entity's forms, those that another entity holds too."""
    owners = owners_of(session, {form for forms in forms_by_entity.values() for form in forms})
    for entity_id, forms in forms_by_entity.items():
        for form in forms:
            owners.setdefault(form, set()).add(entity_id)
    return held_by_several({form: owners[form] for form in sorted(owners)})


def refuse_shared(
    session: Session, entity_id: str, texts: Iterable[str], *, allow_shared: bool
) -> None:
    """Refuse forms that another entity holds: its mentions would become ambiguous."""
    if allow_shared:
        return
    written = {normalize(text): text for text in texts}
    taken = [
        (written[form], form, sorted(ids - {entity_id}))
        for form, ids in sorted(owners_of(session, written).items())
        if ids - {entity_id}
    ]
    if taken:
        held = "; ".join(
            f"{text!r} (form {form!r}) is held by {', '.join(map(repr, others))}"
            for text, form, others in taken
        )
        raise Conflict(
            f"{held}: a form of several entities makes its mentions ambiguous; "
            "send allow_shared=true to share it all the same"
        )

-- share_anchors_all: every published inference-share anchor the share model may use.
-- params: none
-- returns: anchor_id, definition, t, value, bound, published, estimate_ids, note
select anchor_id, definition, t, value, bound, published, estimate_ids, note
from share_anchors
order by definition, t, anchor_id

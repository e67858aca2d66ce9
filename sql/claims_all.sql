-- claims_all: published claims on when inference overtakes training, with their definitions.
-- params: none
-- returns: claim_id, publisher, published, definition, crossover_year, inference_share, share_year, kind, quote, url, via, note
select claim_id, publisher, published, definition, crossover_year, inference_share, share_year, kind, quote, url,
       via, note
from crossover_claims
order by claim_id

-- The ACI contract (issue 15): the agreement's tables, one per version, and the
-- indicator definitions the coordinators write into the contract. Amounts are data:
-- an avenant is loaded with `cordee aci load FILE`, never written in code. Amounts in
-- euro cents.
create table aci_agreements (
    version text primary key,
    label text not null,
    -- Contract years starting on or after this date (YYYY-MM-DD) use this version.
    effective_from text not null,
    -- Share of the year's maximum paid in advance, in basis points.
    advance_bp bigint not null,
    -- Comma-separated missions every CPTS under this version must choose.
    mandatory text not null,
    loaded_at bigint not null
);

create table aci_amounts (
    version text not null references aci_agreements (version),
    size bigint not null,
    line text not null,
    fixed_cents bigint not null,
    variable_cents bigint not null,
    primary key (version, size, line)
);

create table aci_indicators (
    code text primary key,
    label text not null,
    target bigint not null,
    weight bigint not null,
    position bigint not null
);

-- One row: the version of the indicator set, for optimistic concurrency.
create table aci_settings (
    id bigint primary key,
    version bigint not null,
    updated_at bigint,
    updated_by text references accounts (id)
);

-- The 2019 agreement (ACI CPTS, 20 June 2019): sizes 1 to 4 total 185,000,
-- 244,500, 315,000 and 380,000 euros.
insert into aci_agreements (version, label, effective_from, advance_bp, mandatory, loaded_at)
values ('2019', 'Accord conventionnel interprofessionnel CPTS du 20 juin 2019', '2019-06-20', 7500, 'acces_soins,parcours,prevention', 0);

insert into aci_amounts (version, size, line, fixed_cents, variable_cents) values
    ('2019', 1, 'fonctionnement', 5000000, 0),
    ('2019', 1, 'acces_soins', 1500000, 1500000),
    ('2019', 1, 'soins_non_programmes', 1000000, 0),
    ('2019', 1, 'parcours', 2500000, 2500000),
    ('2019', 1, 'prevention', 1000000, 1000000),
    ('2019', 1, 'qualite', 750000, 750000),
    ('2019', 1, 'accompagnement', 500000, 500000),
    ('2019', 2, 'fonctionnement', 6250000, 0),
    ('2019', 2, 'acces_soins', 1750000, 1750000),
    ('2019', 2, 'soins_non_programmes', 1200000, 0),
    ('2019', 2, 'parcours', 3500000, 3500000),
    ('2019', 2, 'prevention', 1500000, 1500000),
    ('2019', 2, 'qualite', 1000000, 1000000),
    ('2019', 2, 'accompagnement', 750000, 750000),
    ('2019', 3, 'fonctionnement', 7500000, 0),
    ('2019', 3, 'acces_soins', 2500000, 2500000),
    ('2019', 3, 'soins_non_programmes', 1500000, 0),
    ('2019', 3, 'parcours', 4500000, 4500000),
    ('2019', 3, 'prevention', 1750000, 1750000),
    ('2019', 3, 'qualite', 1500000, 1500000),
    ('2019', 3, 'accompagnement', 1000000, 1000000),
    ('2019', 4, 'fonctionnement', 9000000, 0),
    ('2019', 4, 'acces_soins', 3000000, 3000000),
    ('2019', 4, 'soins_non_programmes', 2000000, 0),
    ('2019', 4, 'parcours', 5000000, 5000000),
    ('2019', 4, 'prevention', 2000000, 2000000),
    ('2019', 4, 'qualite', 2000000, 2000000),
    ('2019', 4, 'accompagnement', 1500000, 1500000);

-- The default indicators: each computed from Cordée's own data (docs/aci.md).
insert into aci_indicators (code, label, target, weight, position) values
    ('patients_places', 'Patients sans médecin traitant placés auprès d''un médecin traitant', 100, 2, 0),
    ('patients_places_fragiles', 'Dont patients en ALD ou de 70 ans et plus', 50, 2, 1),
    ('capacite_medecins', 'Nouveaux patients par mois que les médecins généralistes déclarent pouvoir accueillir', 20, 1, 2),
    ('pps_actifs', 'Plans personnalisés de santé (PPS) actifs dans l''année', 50, 1, 3),
    ('pps_revus_a_temps', 'Révisions de PPS faites à la date prévue', 40, 1, 4),
    ('rcp_validees', 'Réunions de concertation pluriprofessionnelle (RCP) validées', 6, 2, 5),
    ('rcp_professions', 'Professions différentes présentes aux RCP', 4, 1, 6),
    ('actions_prevention', 'Actions enregistrées dans les campagnes de prévention', 1000, 2, 7),
    ('structures_prevention', 'Structures participant aux campagnes de prévention', 10, 1, 8),
    ('campagnes_crise', 'Campagnes de réponse aux crises sanitaires (canicule, épidémie)', 1, 1, 9),
    ('concertations_validees', 'Concertations pluriprofessionnelles validées (qualité et pertinence)', 4, 1, 10),
    ('adherents', 'Professionnels de santé adhérents de la CPTS', 50, 2, 11),
    ('adherents_professions', 'Professions représentées parmi les adhérents', 6, 1, 12);

insert into aci_settings (id, version, updated_at, updated_by) values (1, 1, null, null);

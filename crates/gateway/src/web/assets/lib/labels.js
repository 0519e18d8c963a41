// Every string a person reads is French; the API speaks codes. These tables turn
// codes into words.

export const CATEGORIES = {
  synthese: 'Synthèse',
  medical: 'Médical',
  soins: 'Soins',
  traitements: 'Traitements',
  resultats: 'Résultats',
  social: 'Social',
  administratif: 'Administratif',
  rcp: 'Concertation (RCP)',
};

export const KINDS = { note: 'Note', observation: 'Observation', document: 'Document', photo: 'Photo' };

export const ROLES = {
  medecin_traitant: 'Médecin traitant',
  medecin: 'Médecin',
  infirmier_referent: 'Infirmier·e référent·e',
  infirmier: 'Infirmier·e',
  pharmacien: 'Pharmacien·ne',
  kinesitherapeute: 'Masseur-kinésithérapeute',
  sage_femme: 'Sage-femme',
  chirurgien_dentiste: 'Chirurgien-dentiste',
  auxiliaire: 'Auxiliaire médical·e',
  psychologue: 'Psychologue',
  coordinateur: 'Coordinateur·rice',
  autre: 'Autre',
};

export const STATUSES = {
  provisoire: 'Provisoire',
  recuperee: 'Récupérée',
  validee: 'Validée',
  qualifiee: 'Qualifiée',
};

export const SEXES = { F: 'Féminin', M: 'Masculin', I: 'Indéterminé' };

export const CONVERSATION_KINDS = { patient: 'Fil patient', direct: 'Conversation directe', group: 'Groupe' };

export const PURPOSES = {
  care: 'Équipe de soins',
  break_glass: 'Bris de glace',
  patient_right: 'Droit du patient',
  administration: 'Administration',
};

export const OUTCOMES = { allowed: 'Autorisé', denied: 'Refusé', failed: 'Échec' };

export const NOTIFICATIONS = {
  'care_team.added': 'Vous avez été ajouté·e à l’équipe de soins d’un patient',
  'break_glass.granted': 'Accès en urgence (bris de glace) au dossier d’un de vos patients',
  // Waiting list (issue 14)
  'waiting_list.proposal': 'Un patient sans médecin traitant vous est proposé',
  'waiting_list.placed': 'Un patient de la liste d’attente a trouvé un médecin traitant',
  'waiting_list.proposal_declined': 'Un médecin a décliné une proposition de la liste d’attente',
  'waiting_list.proposal_lapsed': 'Une proposition de la liste d’attente est restée sans réponse',
  // Pathways, care plans and tasks (issue 12)
  'care_plan.review_due': 'La date de revue d’un plan de soins dont vous êtes référent·e est dépassée',
  'task.unassigned': 'Une tâche d’un plan dont vous êtes référent·e est à réattribuer',
  // Case conferences (issue 13)
  'case_conference.invited': 'Vous êtes invité·e à une concertation',
  'case_conference.follow_up': 'Vous êtes chargé·e du suivi d’une décision de concertation',
  'case_conference.task_assigned': 'Une concertation vous a confié une action',
};

const ACTIONS = {
  read: 'consultation', list: 'liste', create: 'création', search: 'recherche', grant: 'accès en urgence',
  update: 'modification', correct: 'correction', add: 'ajout', remove: 'retrait', erase: 'effacement',
  export: 'export', upload: 'envoi', edit: 'modification', delete: 'suppression', lookup: 'recherche',
  entered_in_error: 'marquée erronée', identity_update: 'correction d’identité',
  // Pathways, care plans and tasks (issue 12)
  review: 'revue', review_due: 'revue à faire', unassigned: 'désattribution',
};
const SUBJECTS = {
  patient: 'Patient', entry: 'Entrée du dossier', care_team: 'Équipe de soins', consent: 'Consentement',
  message: 'Message', conversation: 'Conversation', attachment: 'Pièce jointe', break_glass: 'Bris de glace',
  access_log: 'Journal d’accès',
  // Pathways, care plans and tasks (issue 12)
  care_plan: 'Plan de soins', task: 'Tâche', pathway: 'Parcours',
};

/** `entry.read` → "Entrée du dossier : consultation". */
export function actionText(action) {
  const [subject, verb] = String(action).split('.');
  const s = SUBJECTS[subject];
  const v = ACTIONS[verb];
  return s && v ? `${s} : ${v}` : action;
}

/** The matrix column of a profession code (mirrors `ProfessionGroup::of` in
 *  crates/pathway/src/account.rs; staff have their own column). */
export function professionGroup(me) {
  if (!me) return null;
  if (me.kind === 'staff') return 'staff';
  const code = me.profession && me.profession.code;
  return (
    {
      10: 'medecin', 50: 'sage_femme', 40: 'dentiste', 21: 'pharmacien', 60: 'infirmier', 70: 'kinesitherapeute',
      80: 'auxiliaire', 91: 'auxiliaire', 92: 'auxiliaire', 94: 'auxiliaire', 95: 'auxiliaire', 96: 'auxiliaire',
      93: 'psychologue',
    }[code] || null
  );
}

const ERRORS = {
  network: 'Connexion impossible. Vérifiez le réseau puis réessayez.',
  'auth.required': 'Votre session a pris fin : reconnectez-vous.',
  'auth.session_expired': 'Votre session a pris fin : reconnectez-vous.',
  'auth.csrf': 'La demande a été refusée par sécurité : rechargez la page.',
  'patient.not_found': 'Patient introuvable ou accès non autorisé.',
  'patient.invalid_name': 'Nom ou prénoms invalides : lettres, espaces, tirets ou apostrophes (100 au plus).',
  'patient.invalid_birth_date': 'Date de naissance invalide (ni future, ni avant 1890).',
  'patient.invalid_ins': 'Matricule INS ou OID invalide : 15 caractères avec la clé, et l’OID correspondant.',
  'patient.invalid_birth_place': 'Le code INSEE du lieu de naissance a 5 caractères.',
  'patient.invalid_query': 'Recherche : un matricule INS, ou un nom de naissance et une date (DUPONT 12/03/1950).',
  'patient.create_forbidden': 'Votre profil ne permet pas de créer un patient.',
  'patient.possible_duplicate': 'Ce patient semble déjà exister.',
  'conflict.duplicate': 'Cet élément existe déjà.',
  'entry.category_forbidden': 'Votre profession ne peut pas écrire dans cette catégorie.',
  'entry.category_read_only': 'Votre profession peut lire cette catégorie, pas y écrire.',
  'entry.category_objected': 'Le patient s’est opposé au partage de cette catégorie.',
  'entry.invalid_title': 'Le titre est obligatoire (200 caractères au plus).',
  'entry.body_too_long': 'Le texte est trop long.',
  'care_team.already_member': 'Cette personne fait déjà partie de l’équipe de soins.',
  'care_team.reason_required': 'Indiquez le motif de l’ajout.',
  'care_team.unknown_account': 'Ce compte n’existe pas.',
  'care_team.not_allowed': 'Seuls le médecin traitant et la coordination peuvent retirer un membre.',
  'care_team.medecin_traitant_exists': 'Le patient a déjà un médecin traitant.',
  'break_glass.reason_required': 'Le motif est obligatoire (10 caractères au moins).',
  'break_glass.health_professionals_only': 'Le bris de glace est réservé aux professionnels de santé.',
  'break_glass.already_member': 'Vous faites déjà partie de l’équipe de soins.',
  'break_glass.rate_limited': 'Trop de recherches en urgence : patientez une minute.',
  'break_glass.ambiguous': 'Plusieurs patients correspondent : précisez avec le matricule INS.',
  'message.empty': 'Le message est vide.',
  'message.too_large': 'Le message est trop long.',
  'message.rate_limited': 'Trop de messages en peu de temps : patientez un instant.',
  'message.not_sender': 'Seul l’auteur peut modifier ou supprimer ce message.',
  'conversation.direct_needs_one': 'Une conversation directe se fait avec une seule autre personne.',
  'conversation.unknown_member': 'Un des comptes choisis n’existe pas.',
  'conversation.title_required': 'Donnez un titre au groupe.',
  'conversation.category_forbidden': 'Votre profession ne peut pas ouvrir de fil dans cette catégorie.',
  'conversation.team_only': 'Seule l’équipe de soins peut ouvrir un fil sur ce patient.',
  'consent.not_allowed': 'Votre rôle ne permet pas de modifier le consentement.',
  'consent.informed_in_future': 'La date d’information ne peut pas être future.',
  'attachment.unsupported_type': 'Seules les photos (JPEG, PNG, WebP, HEIC) et les PDF sont acceptés.',
  'request.too_large': 'Le fichier est trop volumineux.',
  'me.exercice_unknown': 'Cet exercice n’existe pas dans votre profil.',
  'route.not_found': 'Cette fonction n’est pas disponible sur ce serveur.',
  'policy.denied': 'Accès refusé.',
  // Campaigns (issue 15)
  'campaign.coordinators_only': 'Seuls les coordinateurs de la CPTS gèrent les campagnes.',
  'campaign.not_member_of_organisation': 'Vous n’agissez que pour une structure à laquelle vous appartenez.',
  'campaign.already_participating': 'Cette structure participe déjà à la campagne.',
  'campaign.not_participating': 'Cette structure ne participe pas (ou plus) à la campagne.',
  'campaign.participant_not_found': 'Cette structure ne participe pas à la campagne.',
  'campaign.unknown_kind': 'Ce type d’action n’existe pas dans la campagne.',
  'campaign.invalid_count': 'Le nombre saisi n’est pas valable.',
  'campaign.future_day': 'On ne saisit pas pour un jour à venir.',
  'campaign.outside_period': 'Ce jour est en dehors de la période de la campagne.',
  'campaign.invalid_date': 'Date invalide.',
  'campaign.invalid_period': 'Période invalide : la fin précède le début, ou dépasse 400 jours.',
  'campaign.invalid_title': 'Titre : de 2 à 200 caractères.',
  'campaign.invalid_action_kinds': 'Types d’action : de 1 à 20, chacun avec un libellé, sans doublon.',
  'campaign.invalid_targets': 'Objectifs : des nombres entiers positifs.',
  'campaign.kind_in_use': 'Une action déjà saisie par des structures ne peut pas être retirée.',
  'campaign.period_excludes_records': 'Des saisies existent hors de la nouvelle période.',
  'campaign.not_found': 'Campagne introuvable.',
  // Waiting list (issue 14)
  'waiting_list.duplicate': 'Cette personne a déjà une demande en cours sur la liste d’attente.',
  'waiting_list.invalid_commune': 'Code commune INSEE invalide (5 caractères, par exemple 59350).',
  'waiting_list.invalid_flag': 'Critère de fragilité invalide.',
  'waiting_list.invalid_contact': 'Coordonnées invalides : téléphone d’au moins 6 chiffres, courriel avec @.',
  'waiting_list.too_many_gps': 'Proposez de 1 à 3 médecins (propositions en attente comprises).',
  'waiting_list.not_a_gp': 'Une proposition s’adresse à un médecin généraliste.',
  'waiting_list.no_capacity': 'Ce médecin n’a plus de place ce mois-ci.',
  'waiting_list.already_placed': 'Ce patient vient d’être placé auprès d’un autre médecin.',
  'waiting_list.proposal_closed': 'Cette proposition a déjà reçu une réponse ou a expiré.',
  'waiting_list.closed': 'Cette demande est close.',
  'gp_capacity.gps_only': 'Seuls les médecins généralistes déclarent des disponibilités.',
  'gp_capacity.invalid_until': 'La date de fin doit être aujourd’hui ou plus tard.',
  'gp_capacity.invalid_commune': 'Communes : codes INSEE à 5 caractères, séparés par des virgules.',
  // Pathways, care plans and tasks (issue 12)
  'care_plan.active_exists': 'Ce patient a déjà un plan actif pour ce parcours.',
  'care_plan.unknown_pathway': 'Ce parcours n’existe pas.',
  'care_plan.referent_not_in_team': 'Le référent doit faire partie de l’équipe de soins.',
  'care_plan.review_in_past': 'La date de revue doit être postérieure à aujourd’hui.',
  'care_plan.review_too_far': 'La date de revue doit être dans l’année.',
  'care_plan.closed': 'Ce plan est clôturé.',
  'care_plan.version_conflict': 'Le plan a été modifié entre-temps : rechargez-le.',
  'care_plan.team_only': 'Seuls les professionnels de l’équipe de soins et son coordinateur modifient le plan.',
  'task.unknown_assignee': 'Ce professionnel n’a pas de compte Cordée.',
  'task.assignee_not_in_team': 'La personne choisie ne fait pas partie de l’équipe de soins.',
  'task.category_not_for_assignee': 'La profession de la personne choisie ne peut pas lire cette catégorie.',
  'task.due_in_past': 'L’échéance ne peut pas être passée.',
  'task.reason_required': 'Indiquez le motif du refus.',
  'task.version_conflict': 'La tâche a été modifiée entre-temps : rechargez-la.',
  'task.finished': 'Cette tâche est terminée ou annulée.',
  'task.not_yours': 'Cette action revient à la personne assignée ou au référent du plan.',
  'task.invalid_transition': 'Ce changement d’état n’est pas possible.',
  // Case conferences (issue 13)
  'case_conference.not_found': 'Concertation introuvable ou accès non autorisé.',
  'case_conference.quorum_not_met': 'Quorum non atteint.',
  'case_conference.validated': 'Cette concertation est validée : son compte rendu ne peut plus changer.',
  'case_conference.cancelled': 'Cette concertation est annulée.',
  'case_conference.patient_objected': 'Le patient s’est opposé à la discussion de son dossier en concertation.',
  'case_conference.duplicate_case': 'Ce patient est déjà à l’ordre du jour.',
  'case_conference.chair_only': 'Seul·e le·la président·e (ou la coordination) rédige le compte rendu.',
  'case_conference.managers_only': 'Seuls l’organisateur, le·la président·e et la coordination modifient la concertation.',
  'case_conference.organisers_only': 'Votre profil ne permet pas d’organiser une concertation.',
  'case_conference.not_started': 'La concertation n’a pas encore commencé.',
  'case_conference.version_conflict': 'La concertation a changé entre-temps : rechargez la page.',
  'case_conference.unknown_account': 'Ce compte n’existe pas.',
};

/** A French sentence for an error from `api.js` (or anything thrown). */
export function errorText(error) {
  if (!error) return '';
  if (ERRORS[error.code]) return ERRORS[error.code];
  if (error.status === 403) return 'Action non autorisée pour votre profil.';
  if (error.status === 404) return 'Introuvable ou accès non autorisé.';
  if (error.status === 409) return 'Conflit : l’élément a changé ou existe déjà.';
  if (error.status === 422) return `Donnée invalide${error.problem && error.problem.field ? ` (${error.problem.field})` : ''}.`;
  if (error.status === 429) return 'Trop de demandes : patientez un instant.';
  if (error.status >= 500) return 'Le serveur a rencontré une erreur ; réessayez dans un instant.';
  return error.message ? `Erreur : ${error.message}` : 'Une erreur est survenue.';
}

// Waiting list (issue 14)
export const WAITING_STATUSES = { waiting: 'En attente', proposed: 'Proposée', placed: 'Placée', withdrawn: 'Retirée' };
export const PROPOSAL_STATUSES = { pending: 'En attente de réponse', accepted: 'Acceptée', declined: 'Déclinée', lapsed: 'Expirée' };
export const WAITING_SOURCES = { patient: 'Le patient', professional: 'Un professionnel', cpam: 'CPAM', mairie: 'Mairie', autre: 'Autre' };
export const WAITING_GROUPS = { ald: 'ALD', '70_plus': '70 ans et plus', css_ame: 'CSS / AME', others: 'Autres' };
export const FRAGILITY_FLAGS = {
  ald: 'ALD',
  age_70_plus: '70 ans et plus',
  complex_situation: 'Situation complexe',
  lost_gp: 'Médecin parti',
  needs_home_visits: 'Visites à domicile',
};

// Pathways, care plans and tasks (issue 12)
export const TASK_STATUSES = {
  proposed: 'Proposée',
  accepted: 'Acceptée',
  declined: 'Refusée',
  in_progress: 'En cours',
  done: 'Réalisée',
  cancelled: 'Annulée',
};

export const PLAN_STATUSES = { active: 'Actif', suspended: 'Suspendu', closed: 'Clôturé' };

export const TASK_SOURCES = { plan: 'Plan', pathway: 'Parcours', case_conference: 'Concertation' };
// Case conferences (issue 13)
export const CONFERENCE_KINDS = { rcp: 'RCP', concertation: 'Concertation pluriprofessionnelle' };
export const CONFERENCE_STATUSES = { planned: 'Planifiée', validated: 'Validée', cancelled: 'Annulée' };

"""Who is in the demo. Every identifier is computed, valid, and belongs to nobody."""

from datetime import time

ORGANISATIONS = [
    # key, name, kind, département, city
    ("cabinet", "Cabinet médical des Lilas", "practice", "75", "Paris"),
    ("msp", "Maison de santé pluriprofessionnelle du Vercors", "health_centre", "38", "Villard-de-Lans"),
    ("hopital", "Centre hospitalier Saint-Roch", "hospital", "69", "Lyon"),
    ("ehpad", "EHPAD Les Tilleuls", "nursing_home", "38", "Grenoble"),
    ("pharmacie", "Pharmacie du Marché", "pharmacy", "75", "Paris"),
    ("samu", "SAMU 69 – Centre 15", "samu", "69", "Lyon"),
]

PROFESSIONALS = [
    # key, given, family, profession, specialty, organisations
    ("martin", "Claire", "Martin", "physician", "Médecine générale", ["cabinet", "msp"]),
    ("benali", "Karim", "Benali", "physician", "Dermatologie", ["hopital"]),
    ("lefevre", "Sophie", "Lefèvre", "physician", "Cardiologie", ["hopital"]),
    ("dupuis", "Jean", "Dupuis", "physician", "Médecine d'urgence", ["samu"]),
    ("moreau", "Léa", "Moreau", "midwife", None, ["msp"]),
    ("girard", "Thomas", "Girard", "dentist", None, ["cabinet"]),
    ("petit", "Julie", "Petit", "nurse", None, ["msp", "ehpad"]),
    ("roux", "Marc", "Roux", "pharmacist", None, ["pharmacie"]),
    ("faure", "Inès", "Faure", "psychologist", None, ["msp"]),
    ("garnier", "Paul", "Garnier", "physiotherapist", None, ["msp"]),
    ("haddad", "Nadia", "Haddad", "call_taker", None, ["samu"]),
]

FAMILY_NAMES = [
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
]
GIVEN_F = [
    "Marie Anne",
    "Camille",
    "Léa",
    "Chloé",
    "Manon Louise",
    "Inès",
    "Jeanne",
    "Sarah",
    "Hélène",
    "Zoé",
]
GIVEN_M = [
    "Jean Pierre",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel Marie",
    "Arthur",
    "Nathan",
    "Paul",
    "Étienne",
    "Yanis",
]
# Birth places (INSEE codes): Paris 12e, Lyon 3e, Grenoble, Ajaccio (2A), Bastia (2B), Pointe-à-Pitre.
BIRTH_PLACES = [
    ("75", "112", "75112"),
    ("69", "383", "69383"),
    ("38", "185", "38185"),
    ("2A", "004", "2A004"),
    ("2B", "033", "2B033"),
    ("971", "120", "97120"),
]
STATUSES = ["QUAL", "QUAL", "QUAL", "VALI", "RECUP", "PROV"]

_DAY = [(time(8, 30), time(12, 30)), (time(14, 0), time(19, 0))]
# Monday to Friday, and Saturday morning: Europe/Paris wall-clock times.
OPENING_HOURS = {0: _DAY, 1: _DAY, 2: _DAY, 3: _DAY, 4: _DAY, 5: [(time(9, 0), time(12, 0))]}

CONSENT_INFORMATION = {
    "teleconsultation": "Information orale : consultation par vidéo, alternative en présentiel possible, "
    "données hébergées chez un hébergeur certifié HDS, compte rendu versé au dossier.",
    "telemonitoring": "Information orale : appareils connectés, seuils d'alerte, équipe qui surveille, "
    "durée du programme, possibilité d'arrêter à tout moment.",
}

NOTES = [
    ("note", "Consultation au cabinet", "Bilan annuel ; tension artérielle 128/82 mmHg."),
    ("note", "Vaccination antigrippale", "Vaccin administré au cabinet, pas de réaction."),
    ("note", "Résultats biologiques reçus", "HbA1c 7,1 % ; à revoir dans 3 mois."),
]

"""Checklists a doctor may pick to guide a gesture step by step. Data, not code: a team adds its
own protocol here. The steps follow the usual order of each gesture (nursing and ECG guides)."""

CHECKLISTS: dict[str, tuple[str, list[str]]] = {
    "pansement-complexe": (
        "Réfection d'un pansement complexe",
        [
            "Hygiène des mains, matériel stérile préparé",
            "Retrait du pansement, aspect du pansement retiré",
            "Observation de la plaie (taille, fond, berges, exsudat) montrée à la caméra",
            "Nettoyage au sérum physiologique",
            "Protection de la peau péri-lésionnelle",
            "Pansement primaire adapté",
            "Pansement secondaire et fixation",
            "Traçabilité : date, aspect, prochain renouvellement",
        ],
    ),
    "ecg-12": (
        "Pose des électrodes d'un ECG 12 dérivations",
        [
            "Patient allongé, thorax dégagé, peau préparée",
            "Membres : rouge bras droit, jaune bras gauche, vert jambe gauche, noir jambe droite",
            "V1 : 4e espace intercostal, bord droit du sternum",
            "V2 : 4e espace intercostal, bord gauche du sternum",
            "V4 : 5e espace intercostal, ligne médioclaviculaire gauche",
            "V3 : à mi-distance entre V2 et V4",
            "V5 : ligne axillaire antérieure, horizontale de V4",
            "V6 : ligne axillaire moyenne, horizontale de V4",
            "Enregistrement, tracé vérifié à l'écran",
        ],
    ),
    "otoscopie": (
        "Examen otoscopique avec otoscope connecté",
        [
            "Choix du spéculum adapté, otoscope branché et affiché",
            "Traction du pavillon (en haut et en arrière chez l'adulte)",
            "Conduit auditif externe examiné",
            "Tympan visualisé, image figée et annotée",
            "Oreille controlatérale",
        ],
    ),
}

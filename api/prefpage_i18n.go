package api

import (
	"strings"

	"golang.org/x/text/language"
)

// prefLangs are the languages of the preference page, English first (the
// fallback).
var prefLangs = []string{"en", "fr"}

// prefLangNames name each language in itself, for the language switch.
var prefLangNames = map[string]string{"en": "English", "fr": "Français"}

// prefMatcher picks a page language from Accept-Language.
var prefMatcher = language.NewMatcher([]language.Tag{language.English, language.French})

// prefLang is the page's language: the lang query parameter (the
// language switch) if it is one of prefLangs, else the subscription's
// locale if it is, else the best of Accept-Language, else English.
func prefLang(query, locale, acceptLanguage string) string {
	for _, l := range []string{query, locale} {
		if base := baseLang(l); base != "" {
			return base
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	if len(tags) > 0 {
		_, i, conf := prefMatcher.Match(tags...)
		if conf != language.No {
			return prefLangs[i]
		}
	}
	return "en"
}

// baseLang is the page language of a BCP 47 tag ("fr-CA": "fr"), or "".
func baseLang(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(tag), "-")
	if _, ok := prefText[base]; ok {
		return base
	}
	return ""
}

// prefT is the text of key in lang (English's when lang lacks it, the key
// itself when no language has it).
func prefT(lang, key string) string {
	if s, ok := prefText[lang][key]; ok {
		return s
	}
	if s, ok := prefText["en"][key]; ok {
		return s
	}
	return key
}

// prefText are the page's texts by language and key. Types are
// "type.NAME", delivery statuses "status.NAME", channels "channel.NAME".
var prefText = map[string]map[string]string{
	"en": {
		"title":                     "Your calendar notifications",
		"intro":                     "Choose which calendar notifications you receive, how and when. Changes apply to the next message.",
		"account":                   "Calendar account",
		"language.switch":           "Language",
		"saved":                     "Your settings are saved.",
		"conflict":                  "Your settings were changed elsewhere meanwhile. This page now shows them as they are; make your change again.",
		"errors.title":              "Some settings could not be saved",
		"errors.intro":              "Nothing was changed. Correct the fields below and save again.",
		"off.title":                 "All notifications are off",
		"off.text":                  "You receive none of these calendar notifications.",
		"off.resume":                "Turn notifications back on",
		"resumed":                   "Notifications are on again.",
		"methods.legend":            "What you receive, and where",
		"methods.help":              "Tick the notifications each address receives. Untick “On” to receive nothing there.",
		"methods.on":                "On",
		"methods.type":              "Notification",
		"methods.none":              "Choose at least one notification for this address, or turn it off.",
		"digest.legend":             "Summaries",
		"digest.help":               "Gather notifications into one message instead of one message each. Invitations to answer, reminders and imminent cancellations always come at once.",
		"digest.immediate":          "One message per notification, at once",
		"digest.window":             "One summary every",
		"digest.daily":              "One summary a day, at",
		"quiet.legend":              "Quiet hours",
		"quiet.help":                "Nothing is sent during these hours; what comes meanwhile is sent when they end. Times are in your time zone; a period ending at or before its start ends the next day.",
		"quiet.period":              "Period",
		"quiet.new":                 "New period",
		"quiet.days":                "Days (none ticked: every day)",
		"quiet.from":                "From (HH:MM)",
		"quiet.to":                  "To (HH:MM)",
		"quiet.remove":              "Remove this period",
		"throttle.legend":           "At most so many messages",
		"throttle.help":             "Leave empty for no limit. Messages beyond the limit come together in the next summary; none is lost.",
		"throttle.max":              "Messages per address",
		"throttle.per":              "per",
		"pause.legend":              "Pause",
		"pause.help":                "Hold every notification until the start of this day (in your time zone); leave empty for no pause.",
		"pause.until":               "Paused until",
		"where.legend":              "Time zone and language",
		"where.tz":                  "Time zone (such as Europe/Paris)",
		"where.lang":                "Language of the messages",
		"save":                      "Save",
		"unsub.legend":              "Stop everything",
		"unsub.help":                "You will receive no more calendar notifications from this subscription, at any address.",
		"unsub.button":              "Stop all notifications",
		"unsubscribed":              "You will receive no more of these notifications.",
		"recent.title":              "Recent messages",
		"recent.help":               "The last messages sent to you through this subscription, newest first.",
		"recent.none":               "No message yet.",
		"recent.when":               "When",
		"recent.method":             "How",
		"recent.type":               "What",
		"recent.status":             "Status",
		"err.field":                 "Not accepted:",
		"err.time":                  "Write a time as HH:MM, such as 07:30.",
		"err.number":                "Write a whole number, or leave empty.",
		"err.date":                  "Write a date as YYYY-MM-DD.",
		"err.days":                  "Unknown day.",
		"err.invalid.title":         "This link is not valid",
		"err.invalid.text":          "It may have been copied incompletely. Use the “manage notifications” link in a message you received. Nothing was changed.",
		"err.expired.title":         "This link has expired",
		"err.expired.text":          "Links to this page work for a limited time after the message was sent. Use the link in a more recent message. Nothing was changed.",
		"err.revoked.title":         "This link no longer works",
		"err.revoked.text":          "It was withdrawn, for example because a message was forwarded. Use the link in a more recent message. Nothing was changed.",
		"err.gone.title":            "This subscription no longer exists",
		"err.gone.text":             "You will not receive these notifications any more. Nothing was changed.",
		"err.csrf.title":            "This form could not be accepted",
		"err.csrf.text":             "It was not sent from this page, or the page is too old. Open the link from your message again and repeat your change. Nothing was changed.",
		"err.busy.title":            "Please try again in a moment",
		"err.busy.text":             "Your settings could not be read or saved just now. Nothing was changed.",
		"unit.m":                    "minutes",
		"unit.h":                    "hours",
		"unit.1h":                   "hour",
		"unit.1d":                   "day",
		"day.mon":                   "Monday",
		"day.tue":                   "Tuesday",
		"day.wed":                   "Wednesday",
		"day.thu":                   "Thursday",
		"day.fri":                   "Friday",
		"day.sat":                   "Saturday",
		"day.sun":                   "Sunday",
		"channel.email":             "Email",
		"channel.sms":               "SMS",
		"channel.im":                "Instant message",
		"channel.webhook":           "Webhook",
		"status.queued":             "Waiting",
		"status.retrying":           "Being retried",
		"status.sent":               "Sent",
		"status.delivered":          "Delivered",
		"status.undelivered":        "Not delivered",
		"status.failed":             "Failed",
		"status.skipped":            "Not sent",
		"status.discarded":          "Discarded",
		"status.suppressed":         "Not sent (your own change)",
		"status.held":               "Held for later",
		"type.share-invite":         "A calendar shared with you",
		"type.share-reply":          "Answers to your calendar shares",
		"type.resource-change":      "Changes to shared calendars",
		"type.system-status":        "Service announcements",
		"type.quota-status":         "Storage quota",
		"type.eventreg-registered":  "Event registrations",
		"type.eventreg-cancelled":   "Registration cancellations",
		"type.suggest":              "Event suggestions",
		"type.suggest-reply":        "Answers to your suggestions",
		"type.awaiting-approval":    "Events awaiting approval",
		"type.approval-response":    "Approval decisions",
		"type.reminder":             "Reminders",
		"type.event-created":        "Event added",
		"type.event-modified":       "Event changed",
		"type.event-deleted":        "Event removed",
		"type.todo-created":         "Task added",
		"type.todo-modified":        "Task changed",
		"type.todo-deleted":         "Task removed",
		"type.calendar-created":     "Calendar added",
		"type.calendar-modified":    "Calendar changed",
		"type.calendar-deleted":     "Calendar removed",
		"type.invitation":           "Invitations",
		"type.invitation-reply":     "Answers to your invitations",
		"type.invitation-cancelled": "Cancelled events",
		"type.refresh-request":      "Requests for an event's latest version",
		"type.counter-proposal":     "Proposed changes to events",
		"type.other":                "Other notifications",
	},
	"fr": {
		"title":                     "Vos notifications d’agenda",
		"intro":                     "Choisissez les notifications d’agenda que vous recevez, comment et quand. Les changements valent dès le prochain message.",
		"account":                   "Compte d’agenda",
		"language.switch":           "Langue",
		"saved":                     "Vos réglages sont enregistrés.",
		"conflict":                  "Vos réglages ont été modifiés ailleurs entre-temps. Cette page les montre tels qu’ils sont ; refaites votre modification.",
		"errors.title":              "Certains réglages n’ont pas pu être enregistrés",
		"errors.intro":              "Rien n’a été modifié. Corrigez les champs ci-dessous et enregistrez à nouveau.",
		"off.title":                 "Toutes les notifications sont coupées",
		"off.text":                  "Vous ne recevez aucune de ces notifications d’agenda.",
		"off.resume":                "Réactiver les notifications",
		"resumed":                   "Les notifications sont réactivées.",
		"methods.legend":            "Ce que vous recevez, et où",
		"methods.help":              "Cochez les notifications que reçoit chaque adresse. Décochez « Activée » pour ne rien y recevoir.",
		"methods.on":                "Activée",
		"methods.type":              "Notification",
		"methods.none":              "Choisissez au moins une notification pour cette adresse, ou désactivez-la.",
		"digest.legend":             "Résumés",
		"digest.help":               "Regrouper les notifications en un seul message plutôt qu’un message chacune. Les invitations à répondre, les rappels et les annulations imminentes arrivent toujours tout de suite.",
		"digest.immediate":          "Un message par notification, tout de suite",
		"digest.window":             "Un résumé toutes les",
		"digest.daily":              "Un résumé par jour, à",
		"quiet.legend":              "Heures de silence",
		"quiet.help":                "Rien n’est envoyé pendant ces heures ; ce qui arrive entre-temps part à leur fin. Les heures sont dans votre fuseau horaire ; une période qui finit avant son début finit le lendemain.",
		"quiet.period":              "Période",
		"quiet.new":                 "Nouvelle période",
		"quiet.days":                "Jours (aucun coché : tous les jours)",
		"quiet.from":                "De (HH:MM)",
		"quiet.to":                  "À (HH:MM)",
		"quiet.remove":              "Supprimer cette période",
		"throttle.legend":           "Au plus tant de messages",
		"throttle.help":             "Laissez vide pour ne pas limiter. Les messages au-delà de la limite arrivent ensemble dans le résumé suivant ; aucun n’est perdu.",
		"throttle.max":              "Messages par adresse",
		"throttle.per":              "par",
		"pause.legend":              "Pause",
		"pause.help":                "Retenir toutes les notifications jusqu’au début de ce jour (dans votre fuseau horaire) ; laissez vide pour ne pas faire de pause.",
		"pause.until":               "En pause jusqu’au",
		"where.legend":              "Fuseau horaire et langue",
		"where.tz":                  "Fuseau horaire (par exemple Europe/Paris)",
		"where.lang":                "Langue des messages",
		"save":                      "Enregistrer",
		"unsub.legend":              "Tout arrêter",
		"unsub.help":                "Vous ne recevrez plus aucune notification d’agenda de cet abonnement, à aucune adresse.",
		"unsub.button":              "Arrêter toutes les notifications",
		"unsubscribed":              "Vous ne recevrez plus ces notifications.",
		"recent.title":              "Derniers messages",
		"recent.help":               "Les derniers messages envoyés par cet abonnement, du plus récent au plus ancien.",
		"recent.none":               "Aucun message pour l’instant.",
		"recent.when":               "Quand",
		"recent.method":             "Comment",
		"recent.type":               "Quoi",
		"recent.status":             "État",
		"err.field":                 "Refusé :",
		"err.time":                  "Écrivez une heure sous la forme HH:MM, par exemple 07:30.",
		"err.number":                "Écrivez un nombre entier, ou laissez vide.",
		"err.date":                  "Écrivez une date sous la forme AAAA-MM-JJ.",
		"err.days":                  "Jour inconnu.",
		"err.invalid.title":         "Ce lien n’est pas valide",
		"err.invalid.text":          "Il a peut-être été copié en partie seulement. Utilisez le lien « gérer les notifications » d’un message reçu. Rien n’a été modifié.",
		"err.expired.title":         "Ce lien a expiré",
		"err.expired.text":          "Les liens vers cette page ne fonctionnent qu’un temps après l’envoi du message. Utilisez le lien d’un message plus récent. Rien n’a été modifié.",
		"err.revoked.title":         "Ce lien ne fonctionne plus",
		"err.revoked.text":          "Il a été retiré, par exemple parce qu’un message a été transféré. Utilisez le lien d’un message plus récent. Rien n’a été modifié.",
		"err.gone.title":            "Cet abonnement n’existe plus",
		"err.gone.text":             "Vous ne recevrez plus ces notifications. Rien n’a été modifié.",
		"err.csrf.title":            "Ce formulaire n’a pas pu être accepté",
		"err.csrf.text":             "Il n’a pas été envoyé depuis cette page, ou la page est trop ancienne. Rouvrez le lien de votre message et refaites votre modification. Rien n’a été modifié.",
		"err.busy.title":            "Réessayez dans un instant",
		"err.busy.text":             "Vos réglages n’ont pas pu être lus ou enregistrés pour l’instant. Rien n’a été modifié.",
		"unit.m":                    "minutes",
		"unit.h":                    "heures",
		"unit.1h":                   "heure",
		"unit.1d":                   "jour",
		"day.mon":                   "lundi",
		"day.tue":                   "mardi",
		"day.wed":                   "mercredi",
		"day.thu":                   "jeudi",
		"day.fri":                   "vendredi",
		"day.sat":                   "samedi",
		"day.sun":                   "dimanche",
		"channel.email":             "E-mail",
		"channel.sms":               "SMS",
		"channel.im":                "Message instantané",
		"channel.webhook":           "Webhook",
		"status.queued":             "En attente",
		"status.retrying":           "Nouvel essai en cours",
		"status.sent":               "Envoyé",
		"status.delivered":          "Distribué",
		"status.undelivered":        "Non distribué",
		"status.failed":             "Échec",
		"status.skipped":            "Non envoyé",
		"status.discarded":          "Abandonné",
		"status.suppressed":         "Non envoyé (votre propre modification)",
		"status.held":               "Retenu pour plus tard",
		"type.share-invite":         "Un agenda partagé avec vous",
		"type.share-reply":          "Réponses à vos partages d’agenda",
		"type.resource-change":      "Modifications d’agendas partagés",
		"type.system-status":        "Annonces du service",
		"type.quota-status":         "Quota de stockage",
		"type.eventreg-registered":  "Inscriptions à des événements",
		"type.eventreg-cancelled":   "Annulations d’inscription",
		"type.suggest":              "Suggestions d’événements",
		"type.suggest-reply":        "Réponses à vos suggestions",
		"type.awaiting-approval":    "Événements en attente d’approbation",
		"type.approval-response":    "Décisions d’approbation",
		"type.reminder":             "Rappels",
		"type.event-created":        "Événement ajouté",
		"type.event-modified":       "Événement modifié",
		"type.event-deleted":        "Événement supprimé",
		"type.todo-created":         "Tâche ajoutée",
		"type.todo-modified":        "Tâche modifiée",
		"type.todo-deleted":         "Tâche supprimée",
		"type.calendar-created":     "Agenda ajouté",
		"type.calendar-modified":    "Agenda modifié",
		"type.calendar-deleted":     "Agenda supprimé",
		"type.invitation":           "Invitations",
		"type.invitation-reply":     "Réponses à vos invitations",
		"type.invitation-cancelled": "Événements annulés",
		"type.refresh-request":      "Demandes de la dernière version d’un événement",
		"type.counter-proposal":     "Propositions de modification d’événements",
		"type.other":                "Autres notifications",
	},
}

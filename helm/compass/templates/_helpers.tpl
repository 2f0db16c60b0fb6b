{{/* Names and labels. */}}
{{- define "compass.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "compass.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "compass.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "compass.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: include "compass.selector" (list $ "bot") */}}
{{- define "compass.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "compass.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "compass.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "compass.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "compass.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "compass.secretName" -}}
{{- default (include "compass.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "compass.postgresqlSecretName" -}}
{{- printf "%s-postgresql" (include "compass.fullname" .) -}}
{{- end -}}

{{/*
Environment shared by the bot, the workers and the migration job. Secrets only ever arrive through
secretKeyRef / secretRef: the database password is spliced into DATABASE_URL by Kubernetes' own $(VAR)
expansion, so no rendered manifest holds it.
*/}}
{{- define "compass.databaseEnv" -}}
{{- if .Values.postgresql.enabled -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "compass.postgresqlSecretName" . }}
      key: password
- name: DATABASE_URL
  value: {{ printf "postgresql://compass:$(POSTGRES_PASSWORD)@%s-postgresql:5432/compass" (include "compass.fullname" .) | quote }}
{{- else -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "externalDatabase.existingSecret is required when postgresql.enabled=false" .Values.externalDatabase.existingSecret }}
      key: {{ .Values.externalDatabase.existingSecretKey }}
{{- end }}
{{- end -}}

{{- define "compass.env" -}}
{{ include "compass.databaseEnv" . }}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s-redis:6379/0" (include "compass.fullname" .) | quote }}
{{- else if .Values.externalRedis.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.externalRedis.existingSecret }}
      key: {{ .Values.externalRedis.existingSecretKey }}
{{- else }}
- name: REDIS_URL
  value: {{ required "externalRedis.url or externalRedis.existingSecret is required when redis.enabled=false" .Values.externalRedis.url | quote }}
{{- end }}
- name: COMPASS_MCP_CONFIG
  value: /etc/compass/mcp/mcp.json
- name: COMPASS_MCP_LOG_DIR
  value: /data/mcp-logs
{{- if .Values.catalogs.signals }}
- name: COMPASS_SIGNAL_CATALOG
  value: {{ include "compass.signalCatalogPaths" . | quote }}
{{- end }}
{{- if .Values.catalogs.runbooks }}
- name: COMPASS_RUNBOOKS
  value: {{ include "compass.runbookPaths" . | quote }}
{{- end }}
{{- range $key, $value := .Values.config }}
- name: {{ $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "compass.signalCatalogPaths" -}}
{{- $paths := list -}}
{{- range $file, $_ := .Values.catalogs.signals -}}
{{- $paths = append $paths (printf "/etc/compass/catalogs/signals/%s" $file) -}}
{{- end -}}
{{- toJson $paths -}}
{{- end -}}

{{- define "compass.runbookPaths" -}}
{{- $paths := list -}}
{{- range $file, $_ := .Values.catalogs.runbooks -}}
{{- $paths = append $paths (printf "/etc/compass/catalogs/runbooks/%s" $file) -}}
{{- end -}}
{{- toJson $paths -}}
{{- end -}}

{{- define "compass.envFrom" -}}
- secretRef:
    name: {{ include "compass.secretName" . }}
{{- end -}}

{{/* Writable places under a read-only root filesystem, and the mounted configuration. */}}
{{- define "compass.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
- name: mcp
  mountPath: /etc/compass/mcp
  readOnly: true
{{- if .Values.catalogs.signals }}
- name: catalogs
  mountPath: /etc/compass/catalogs/signals
  readOnly: true
{{- end }}
{{- if .Values.catalogs.runbooks }}
- name: runbooks
  mountPath: /etc/compass/catalogs/runbooks
  readOnly: true
{{- end }}
{{- end -}}

{{- define "compass.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: mcp
  configMap:
    name: {{ include "compass.fullname" . }}-mcp
{{- if .Values.catalogs.signals }}
- name: catalogs
  configMap:
    name: {{ include "compass.fullname" . }}-catalogs
{{- end }}
{{- if .Values.catalogs.runbooks }}
- name: runbooks
  configMap:
    name: {{ include "compass.fullname" . }}-runbooks
{{- end }}
{{- end -}}

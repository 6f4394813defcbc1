/*
 * fhirwall audit: the sinks (files reopened on USR1, stdout, stderr), their
 * buffers, flush timers and fsync policy, and fw_audit_log.
 */


#include "ngx_http_fw_audit.h"
#include "ngx_http_fw_audit_metrics.h"


static ngx_int_t ngx_http_fw_audit_sink_put(ngx_http_fw_audit_sink_t *s,
    u_char *data, size_t len, ngx_log_t *log);
static ngx_int_t ngx_http_fw_audit_sink_write(ngx_http_fw_audit_sink_t *s,
    u_char *data, size_t len, ngx_log_t *log);
static void ngx_http_fw_audit_sink_take_back(ngx_http_fw_audit_sink_t *s,
    ngx_fd_t fd, u_char *data, size_t n, ngx_log_t *log);
static void ngx_http_fw_audit_flush_handler(ngx_event_t *ev);
static void ngx_http_fw_audit_close_read_fd(void *data);
static void ngx_http_fw_audit_reopen_flush(ngx_open_file_t *file,
    ngx_log_t *log);
static ngx_int_t ngx_http_fw_audit_log_param(ngx_conf_t *cf, ngx_str_t *v,
    ngx_http_fw_audit_sink_t *want);
static ngx_http_fw_audit_sink_t *ngx_http_fw_audit_log_sink(ngx_conf_t *cf,
    ngx_str_t *value, ngx_http_fw_audit_sink_t *want);


/* ---- sinks ------------------------------------------------------------ */


ngx_int_t
ngx_http_fw_audit_sink_start(ngx_http_fw_audit_sink_t *s,
    ngx_http_fw_audit_main_conf_t *amcf, ngx_log_t *log)
{
    u_char      id[FW_AUDIT_CHAIN_ID_MAX], *p;
    uint32_t    rnd;
    ngx_time_t *tp;
    int64_t     now;

    if (s->chain || amcf->secret.len == 0) {
        return NGX_OK;
    }

    tp = ngx_timeofday();
    now = (int64_t) tp->sec * 1000 + tp->msec;

    if (RAND_bytes((u_char *) &rnd, sizeof(rnd)) != 1) {
        rnd = (uint32_t) ngx_random();
    }

    p = ngx_snprintf(id, sizeof(id), "%V-%P-%L-%08xD", &amcf->host,
                     ngx_pid, now, rnd);

    s->chain = fw_audit_chain_create(amcf->secret.data, amcf->secret.len,
                                     id, p - id, now,
                                     (int64_t) amcf->epoch);
    if (s->chain == NULL) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "fw_audit: cannot start a chain for \"%V\"", &s->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_fw_audit_sink_lifecycle(ngx_http_fw_audit_sink_t *s,
    ngx_http_fw_audit_main_conf_t *amcf, int kind, ngx_log_t *log)
{
    size_t         len, id_len;
    u_char         buf[2048];
    ngx_time_t    *tp;
    const u_char  *id;

    if (s->chain == NULL) {
        return;
    }

    tp = ngx_timeofday();
    id = fw_audit_chain_id(s->chain, &id_len);

    len = fw_audit_build_lifecycle(buf, sizeof(buf) - 512, (int) s->format,
                                   kind, (int64_t) tp->sec * 1000 + tp->msec,
                                   amcf->host.data, amcf->host.len, id,
                                   id_len);
    if (len == 0) {
        return;
    }

    len = fw_audit_chain_seal(s->chain, buf, len, sizeof(buf),
                              (int) s->format, kind,
                              (int64_t) tp->sec * 1000 + tp->msec);
    if (len == 0) {
        return;
    }

    /* lifecycle records are never buffered */

    ngx_http_fw_audit_sink_flush(s, log);

    if (ngx_http_fw_audit_sink_write(s, buf, len, log) == NGX_OK) {
        fw_audit_chain_commit(s->chain);

        if (kind == FW_AUDIT_KIND_START) {
            s->started = 1;
        }
    }
}


ngx_int_t
ngx_http_fw_audit_sink_record(ngx_http_fw_audit_sink_t *s, u_char *buf,
    size_t len, size_t size, int kind, ngx_log_t *log)
{
    ngx_time_t                     *tp;
    ngx_http_fw_audit_main_conf_t  *amcf;

    if (s->chain == NULL && !s->started) {
        amcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_fw_audit_module);
        (void) ngx_http_fw_audit_sink_start(s, amcf, log);
    }

    if (s->chain == NULL) {
        len = fw_audit_close(buf, len, size);
        s->started = 1;

        if (ngx_http_fw_audit_sink_put(s, buf, len, log) != NGX_OK) {
            s->lost++;
            ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_LOST, 1);
            return NGX_ERROR;
        }

        ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_RECORDS, 1);
        return NGX_OK;
    }

    if (!s->started) {
        /* the start record could not be written yet */
        amcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_http_fw_audit_module);
        ngx_http_fw_audit_sink_lifecycle(s, amcf, FW_AUDIT_KIND_START, log);

        if (!s->started) {
            fw_audit_chain_lost(s->chain, 1);
            s->lost++;
            ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_LOST, 1);
            return NGX_ERROR;
        }
    }

    tp = ngx_timeofday();

    len = fw_audit_chain_seal(s->chain, buf, len, size, (int) s->format,
                              kind, (int64_t) tp->sec * 1000 + tp->msec);
    if (len == 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "fw_audit: sealing a record for \"%V\" failed",
                      &s->name);
        return NGX_ERROR;
    }

    if (ngx_http_fw_audit_sink_put(s, buf, len, log) != NGX_OK) {
        fw_audit_chain_lost(s->chain, 1);
        s->lost++;
        ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_LOST, 1);
        return NGX_ERROR;
    }

    fw_audit_chain_commit(s->chain);
    ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_RECORDS, 1);

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_audit_sink_put(ngx_http_fw_audit_sink_t *s, u_char *data,
    size_t len, ngx_log_t *log)
{
    if (s->buffer_size == 0) {
        return ngx_http_fw_audit_sink_write(s, data, len, log);
    }

    if (s->len + len > s->buffer_size) {
        ngx_http_fw_audit_sink_flush(s, log);
    }

    if (len > s->buffer_size) {
        return ngx_http_fw_audit_sink_write(s, data, len, log);
    }

    if (s->buf == NULL) {
        s->buf = ngx_alloc(s->buffer_size, log);
        if (s->buf == NULL) {
            return ngx_http_fw_audit_sink_write(s, data, len, log);
        }
    }

    ngx_memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->nrecs++;

    if (!s->flush_event.timer_set && s->flush) {
        s->flush_event.handler = ngx_http_fw_audit_flush_handler;
        s->flush_event.data = s;
        s->flush_event.log = ngx_cycle->log;
        s->flush_event.cancelable = 1;
        ngx_add_timer(&s->flush_event, s->flush);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_fw_audit_sink_write(ngx_http_fw_audit_sink_t *s, u_char *data,
    size_t len, ngx_log_t *log)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_msec_t       now;
    ngx_file_info_t  fi;

    fd = s->file ? s->file->fd : s->std_fd;

    if (fd != s->seen_fd) {
        /* a new file (start, or reopened on USR1): its permissions */
        s->seen_fd = fd;

        if (s->file && ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
            && ngx_is_file(&fi)
            && (ngx_file_access(&fi) & 0777) != s->mode
            && fchmod(fd, (mode_t) s->mode) == -1)
        {
            ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                          "fw_audit: fchmod(\"%V\", 0%d%d%d) failed",
                          &s->name, (int) (s->mode >> 6 & 7),
                          (int) (s->mode >> 3 & 7), (int) (s->mode & 7));
        }
    }

    if (s->frag) {
        /* a fragment no longer the file's end: the record after it
           begins a line of its own */

        do {
            n = write(fd, "\n", 1);
        } while (n == -1 && ngx_errno == NGX_EINTR);

        if (n != 1) {
            len = 1;
            goto failed;
        }

        s->frag = 0;
    }

    do {
        n = write(fd, data, len);
    } while (n == -1 && ngx_errno == NGX_EINTR);

    if (n == (ssize_t) len) {

        ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_BYTES, len);

        if (s->failed) {
            s->failed = 0;
            ngx_http_fw_audit_gauge(NGX_HTTP_FW_AUDIT_M_FAILING, 0);
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "fw_audit: \"%V\" is writable again, %ui records "
                          "were lost", &s->name, s->lost);
            s->lost = 0;
        }

        if (s->fsync != NGX_HTTP_FW_AUDIT_FSYNC_OFF && s->file) {
            now = ngx_current_msec;

            if (s->fsync == NGX_HTTP_FW_AUDIT_FSYNC_ALWAYS
                || now - s->last_sync >= s->fsync)
            {
                s->last_sync = now;

                if (fdatasync(fd) == -1) {
                    ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                                  "fw_audit: fdatasync(\"%V\") failed",
                                  &s->name);
                }
            }
        }

        return NGX_OK;
    }

    if (n > 0) {
        ngx_http_fw_audit_sink_take_back(s, fd, data, (size_t) n, log);
    }

failed:

    err = n == -1 ? ngx_errno : 0;

    s->tried = ngx_current_msec;

    ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_ERRORS, 1);
    ngx_http_fw_audit_gauge(NGX_HTTP_FW_AUDIT_M_FAILING, 1);

    if (!s->failed) {
        s->failed = 1;

        if (n == -1) {
            ngx_log_error(NGX_LOG_CRIT, log, err,
                          "fw_audit: write() to \"%V\" failed, audit "
                          "records are being lost", &s->name);
        } else {
            ngx_log_error(NGX_LOG_CRIT, log, 0,
                          "fw_audit: write() to \"%V\" was incomplete: "
                          "%z of %uz, audit records are being lost",
                          &s->name, n, len);
        }
    }

    return NGX_ERROR;
}


/*
 * A short write (a disk full mid-record) left the start of a record at
 * the end of the file: it is taken back (ftruncate), so that the log holds
 * whole records only, if those bytes are still the file's last (another
 * worker may have written after them; the descriptor is write-only, so
 * they are read through a descriptor the master opened for reading, or,
 * after a reopen, through /proc/self/fd).  Else the next write begins with
 * a newline, and the verifier names the fragment as a record cut short.
 */

static void
ngx_http_fw_audit_sink_take_back(ngx_http_fw_audit_sink_t *s, ngx_fd_t fd,
    u_char *data, size_t n, ngx_log_t *log)
{
    off_t            end;
    u_char           tail[1024], proc[64];
    size_t           k, chunk;
    ngx_fd_t         rfd;
    ngx_uint_t       same;
    ngx_file_info_t  fi, rfi;

    s->frag = 1;

    if (s->file == NULL || ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi) || ngx_file_size(&fi) < (off_t) n)
    {
        return;
    }

    end = ngx_file_size(&fi);

    /* the master's read descriptor while it is the same file, else one
       of this worker's own (a file reopened on USR1 is the worker's) */

    rfd = NGX_INVALID_FILE;

    if (s->read_fd != NGX_INVALID_FILE
        && ngx_fd_info(s->read_fd, &rfi) != NGX_FILE_ERROR
        && rfi.st_dev == fi.st_dev && rfi.st_ino == fi.st_ino)
    {
        rfd = s->read_fd;

    } else {
        (void) ngx_snprintf(proc, sizeof(proc), "/proc/self/fd/%d%Z", fd);
        rfd = open((char *) proc, O_RDONLY|O_CLOEXEC);
    }

    if (rfd == NGX_INVALID_FILE) {
        return;
    }

    same = 1;

    for (k = 0; same && k < n; k += chunk) {
        chunk = ngx_min(n - k, sizeof(tail));

        if (pread(rfd, tail, chunk, end - (off_t) (n - k)) != (ssize_t) chunk
            || ngx_memcmp(tail, data + k, chunk) != 0)
        {
            same = 0;
        }
    }

    if (rfd != s->read_fd) {
        (void) close(rfd);
    }

    if (!same) {
        return;
    }

    if (ftruncate(fd, end - (off_t) n) == -1) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "fw_audit: ftruncate(\"%V\") failed", &s->name);
        return;
    }

    s->frag = 0;
}


/*
 * A sink that failed: may a record be tried again?  Asked before a
 * fail-closed location refuses a request, so that a worker serves again
 * as soon as the sink works (and not only after a refusal's record went
 * through).  A regular file: room for a record is reserved at its end
 * (fallocate, FALLOC_FL_KEEP_SIZE: nothing is written; or, where the file
 * system cannot, statfs() says whether there is room); a device, a pipe:
 * an empty write, at most once a second.  NGX_OK: the record is to be
 * tried (it is written before the answer's last byte, which is cut if
 * it fails).
 */

ngx_int_t
ngx_http_fw_audit_sink_probe(ngx_http_fw_audit_sink_t *s, size_t room,
    ngx_log_t *log)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_msec_t       now;
    ngx_file_info_t  fi;
#if (NGX_LINUX)
    struct statfs    fs;
#endif

    fd = s->file ? s->file->fd : s->std_fd;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        return NGX_ERROR;
    }

#if (NGX_LINUX)

    if (ngx_is_file(&fi)) {

        if (fallocate(fd, FALLOC_FL_KEEP_SIZE, ngx_file_size(&fi),
                      (off_t) room)
            == 0)
        {
            return NGX_OK;
        }

        if (ngx_errno != EOPNOTSUPP && ngx_errno != ENOSYS) {
            return NGX_ERROR;
        }

        if (fstatfs(fd, &fs) == -1) {
            return NGX_ERROR;
        }

        return (off_t) fs.f_bavail * (off_t) fs.f_bsize >= (off_t) room
               ? NGX_OK : NGX_ERROR;
    }

#endif

    now = ngx_current_msec;

    if (now - s->tried < 1000) {
        return NGX_ERROR;
    }

    s->tried = now;

    do {
        n = write(fd, "", 0);
    } while (n == -1 && ngx_errno == NGX_EINTR);

    return n == 0 ? NGX_OK : NGX_ERROR;
}


void
ngx_http_fw_audit_sink_flush(ngx_http_fw_audit_sink_t *s, ngx_log_t *log)
{
    if (s->len == 0) {
        return;
    }

    if (ngx_http_fw_audit_sink_write(s, s->buf, s->len, log) != NGX_OK) {
        s->lost += s->nrecs;
        ngx_http_fw_audit_count(NGX_HTTP_FW_AUDIT_M_LOST, s->nrecs);

        if (s->chain) {
            fw_audit_chain_lost(s->chain, s->nrecs);
        }
    }

    s->len = 0;
    s->nrecs = 0;

    if (s->flush_event.timer_set) {
        ngx_del_timer(&s->flush_event);
    }
}


static void
ngx_http_fw_audit_flush_handler(ngx_event_t *ev)
{
    ngx_http_fw_audit_sink_flush(ev->data, ev->log);
}


static void
ngx_http_fw_audit_reopen_flush(ngx_open_file_t *file, ngx_log_t *log)
{
    ngx_http_fw_audit_sink_t  *s;

    s = file->data;

    if (s) {
        ngx_http_fw_audit_sink_flush(s, log);
    }
}


char *
ngx_http_fw_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_fw_audit_loc_conf_t *alcf = conf;

    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_fw_audit_sink_t   want, *sink, **sp;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts != 2 || alcf->sinks != NGX_CONF_UNSET_PTR) {
            return "\"off\" takes no parameters and goes alone";
        }

        alcf->sinks = NULL;
        return NGX_CONF_OK;
    }

    if (alcf->sinks == NULL) {
        return "\"off\" goes alone";
    }

    if (alcf->sinks == NGX_CONF_UNSET_PTR) {
        alcf->sinks = ngx_array_create(cf->pool, 2,
                                       sizeof(ngx_http_fw_audit_sink_t *));
        if (alcf->sinks == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_memzero(&want, sizeof(ngx_http_fw_audit_sink_t));

    want.format = FW_AUDIT_JSONL;
    want.mode = 0600;
    want.fsync = NGX_HTTP_FW_AUDIT_FSYNC_OFF;

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_fw_audit_log_param(cf, &value[i], &want) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (want.flush && want.buffer_size == 0) {
        return "has \"flush\" without \"buffer\"";
    }

    if (want.buffer_size && want.flush == 0) {
        want.flush = 1000;
    }

    sink = ngx_http_fw_audit_log_sink(cf, &value[1], &want);
    if (sink == NULL) {
        return NGX_CONF_ERROR;
    }

    sp = alcf->sinks->elts;

    for (i = 0; i < alcf->sinks->nelts; i++) {
        if (sp[i] == sink) {
            return "names the same destination twice";
        }
    }

    sp = ngx_array_push(alcf->sinks);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = sink;

    return NGX_CONF_OK;
}


/* one parameter of fw_audit_log into "want" */

static ngx_int_t
ngx_http_fw_audit_log_param(ngx_conf_t *cf, ngx_str_t *v,
    ngx_http_fw_audit_sink_t *want)
{
    u_char     *c;
    ssize_t     size;
    ngx_int_t   n;
    ngx_str_t   s;

    if (ngx_strcmp(v->data, "format=jsonl") == 0) {
        want->format = FW_AUDIT_JSONL;

    } else if (ngx_strcmp(v->data, "format=fhir") == 0) {
        want->format = FW_AUDIT_FHIR;

    } else if (ngx_strncmp(v->data, "buffer=", 7) == 0) {
        s.data = v->data + 7;
        s.len = v->len - 7;
        size = ngx_parse_size(&s);

        if (size <= 0 || size > 16 * 1024 * 1024) {
            goto invalid;
        }

        want->buffer_size = (size_t) size;

    } else if (ngx_strncmp(v->data, "flush=", 6) == 0) {
        s.data = v->data + 6;
        s.len = v->len - 6;
        n = ngx_parse_time(&s, 0);

        if (n == NGX_ERROR || n == 0) {
            goto invalid;
        }

        want->flush = (ngx_msec_t) n;

    } else if (ngx_strcmp(v->data, "fsync=off") == 0) {
        want->fsync = NGX_HTTP_FW_AUDIT_FSYNC_OFF;

    } else if (ngx_strcmp(v->data, "fsync=always") == 0) {
        want->fsync = NGX_HTTP_FW_AUDIT_FSYNC_ALWAYS;

    } else if (ngx_strncmp(v->data, "fsync=", 6) == 0) {
        s.data = v->data + 6;
        s.len = v->len - 6;
        n = ngx_parse_time(&s, 0);

        if (n == NGX_ERROR || n == 0) {
            goto invalid;
        }

        want->fsync = (ngx_msec_t) n;

    } else if (ngx_strncmp(v->data, "mode=", 5) == 0) {
        n = 0;

        if (v->len < 6 || v->len > 9) {
            goto invalid;
        }

        for (c = v->data + 5; *c; c++) {
            if (*c < '0' || *c > '7') {
                goto invalid;
            }

            n = n * 8 + (*c - '0');
        }

        if (n & 0137) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": an audit log may be readable by "
                               "its group at most (0600 or 0640)", v);
            return NGX_ERROR;
        }

        want->mode = (ngx_uint_t) n;

    } else {
        goto invalid;
    }

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", v);

    return NGX_ERROR;
}


/* the sink of that name with these parameters: the one already there, or
   a new one (a file created with the mode, opened by nginx) */

static ngx_http_fw_audit_sink_t *
ngx_http_fw_audit_log_sink(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_fw_audit_sink_t *want)
{
    ngx_fd_t                        fd;
    ngx_str_t                       name;
    ngx_uint_t                      i;
    ngx_pool_cleanup_t             *cln;
    ngx_http_fw_audit_sink_t       *sink, **sp;
    ngx_http_fw_audit_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_fw_audit_module);

    name = *value;

    sp = amcf->sinks.elts;

    for (i = 0; i < amcf->sinks.nelts; i++) {
        if (sp[i]->name.len == name.len
            && ngx_strncmp(sp[i]->name.data, name.data, name.len) == 0)
        {
            if (sp[i]->format != want->format || sp[i]->mode != want->mode
                || sp[i]->buffer_size != want->buffer_size
                || sp[i]->flush != want->flush
                || sp[i]->fsync != want->fsync)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "audit log \"%V\" is already used with "
                                   "other parameters", &name);
                return NULL;
            }

            return sp[i];
        }
    }

    sink = ngx_pcalloc(cf->pool, sizeof(ngx_http_fw_audit_sink_t));
    if (sink == NULL) {
        return NULL;
    }

    sink->name = name;
    sink->format = want->format;
    sink->mode = want->mode;
    sink->buffer_size = want->buffer_size;
    sink->flush = want->flush;
    sink->fsync = want->fsync;
    sink->seen_fd = NGX_INVALID_FILE;
    sink->read_fd = NGX_INVALID_FILE;

    if (ngx_strcmp(name.data, "stdout") == 0) {
        sink->std_fd = ngx_stdout;

    } else if (ngx_strcmp(name.data, "stderr") == 0) {
        sink->std_fd = ngx_stderr;

    } else {
        if (ngx_conf_full_name(cf->cycle, &name, 0) != NGX_OK) {
            return NULL;
        }

        sink->name = name;

        /*
         * nginx opens (and reopens) the file with 0644; create it first
         * with the audit log's mode, and fchmod() a file nginx created on
         * USR1 before writing to it
         */

        fd = open((char *) name.data, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC,
                  (mode_t) sink->mode);
        if (fd != NGX_INVALID_FILE) {
            (void) close(fd);
        }

        /* opened by the master, so that an unprivileged worker can read
           back what a short write left (closed with the configuration) */

        cln = ngx_pool_cleanup_add(cf->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        sink->read_fd = open((char *) name.data, O_RDONLY|O_CLOEXEC);

        /*
         * not ngx_pool_cleanup_file(): its log (cf->log, the previous
         * cycle's) is gone when a worker of this cycle exits after a reload
         */

        cln->handler = ngx_http_fw_audit_close_read_fd;
        cln->data = sink;

        sink->file = ngx_conf_open_file(cf->cycle, &name);
        if (sink->file == NULL) {
            return NULL;
        }

        if (sink->file->flush == NULL) {
            sink->file->flush = ngx_http_fw_audit_reopen_flush;
            sink->file->data = sink;
        }
    }

    sp = ngx_array_push(&amcf->sinks);
    if (sp == NULL) {
        return NULL;
    }

    *sp = sink;

    return sink;
}


/* the read descriptor the master opened, closed with the configuration */

static void
ngx_http_fw_audit_close_read_fd(void *data)
{
    ngx_http_fw_audit_sink_t  *sink = data;

    if (sink->read_fd != NGX_INVALID_FILE) {
        (void) close(sink->read_fd);
        sink->read_fd = NGX_INVALID_FILE;
    }
}

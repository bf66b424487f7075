/*
 * kernel.c: the kernel's calls, as libc gives them, for the descriptors
 * that are not netd sockets and for the library's own descriptors
 * (eventfds, the control connection). They are looked up past this
 * object (dlsym RTLD_NEXT), so that when the library is preloaded in
 * front of libc and exports socket(), read() and the rest under those
 * names, its own calls still reach the kernel instead of itself.
 */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libnetclient/nc-internal.h"

struct nc_kernel nc__k;

/* libc's symbol of that name past this object, or the one linked here. */
#define RESOLVE(name)                                                        \
	do {                                                                 \
		void *p = dlsym(RTLD_NEXT, #name);                           \
		nc__k.name = p ? (__typeof__(nc__k.name))p : (name);         \
	} while (0)

static void resolve_all(void)
{
	RESOLVE(socket);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept4);
	RESOLVE(connect);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(shutdown);
	RESOLVE(close);
	RESOLVE(setsockopt);
	RESOLVE(getsockopt);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(poll);
	RESOLVE(ppoll);
}

__attribute__((constructor)) static void nc__kernel_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, resolve_all);
}
